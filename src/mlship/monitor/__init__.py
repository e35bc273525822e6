"""`mlship monitor`: judge what the service captured against the model version that served it.

Reads capture files and DVC outputs only; the service never imports this package, nor this package the
service."""
