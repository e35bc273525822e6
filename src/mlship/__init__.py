"""mlship: GitOps CI/CD for machine-learning models."""
