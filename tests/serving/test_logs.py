"""Client errors are logged as one line; server faults keep their traceback."""

from __future__ import annotations

import logging
import sys
from http import HTTPStatus

import pytest
from bentoml.exceptions import BentoMLException
from pydantic import ValidationError

from mlship.data.schema import parse_schema
from mlship.serving.contract import record_model
from mlship.serving.logs import ClientErrorFilter, quiet_client_errors

#: A two-field contract, enough to make pydantic refuse a record in two ways at once.
SCHEMA = parse_schema(
    {
        "target": {"name": "y", "task": "regression"},
        "features": [
            {"name": "size", "kind": "integer", "min": 0, "max": 10},
            {"name": "colour", "kind": "categorical", "categories": ["red", "blue"]},
        ],
    }
)


def _record_for(error: BaseException) -> logging.LogRecord:
    """The record BentoML's ``log_exception`` makes while handling ``error``."""
    try:
        raise error
    except BaseException:
        exc_info = sys.exc_info()
    return logging.LogRecord(
        "bentoml._internal.server.http_app",
        logging.ERROR,
        __file__,
        1,
        "Exception on %s [%s]",
        ("/predict", "POST"),
        exc_info,
    )


def _validation_error() -> ValidationError:
    try:
        record_model(SCHEMA).model_validate({"size": 300})
    except ValidationError as error:
        return error
    raise AssertionError("the record should have been refused")


def test_a_validation_error_becomes_one_warning_line_naming_the_fields() -> None:
    # given the record BentoML logs for a request that failed validation
    record = _record_for(_validation_error())
    # when filtered
    kept = ClientErrorFilter().filter(record)
    # then it is kept as a WARNING, without a traceback, naming the method, path and fields
    assert kept
    assert record.levelno == logging.WARNING
    assert record.levelname == "WARNING"
    assert record.exc_info is None
    message = record.getMessage()
    assert message.startswith("refused POST /predict: ")
    assert "size" in message
    assert "colour" in message
    assert "\n" not in logging.Formatter().format(record)


@pytest.mark.parametrize(
    "status", [HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_FOUND, HTTPStatus.UNSUPPORTED_MEDIA_TYPE]
)
def test_a_bentoml_client_error_becomes_one_warning_line(status: HTTPStatus) -> None:
    error = BentoMLException("not for this endpoint", error_code=status)
    record = _record_for(error)
    ClientErrorFilter().filter(record)
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    assert f"{int(status)} not for this endpoint" in record.getMessage()


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(RuntimeError("model exploded"), id="an unexpected exception"),
        pytest.param(
            BentoMLException("backend down", error_code=HTTPStatus.SERVICE_UNAVAILABLE),
            id="a 5xx BentoML error",
        ),
    ],
)
def test_a_server_fault_keeps_its_error_level_and_traceback(error: BaseException) -> None:
    record = _record_for(error)
    ClientErrorFilter().filter(record)
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    assert record.getMessage() == "Exception on /predict [POST]"


def test_installing_twice_adds_one_filter() -> None:
    name = "mlship.tests.logs"
    quiet_client_errors(name)
    quiet_client_errors(name)
    filters = logging.getLogger(name).filters
    assert sum(isinstance(f, ClientErrorFilter) for f in filters) == 1
