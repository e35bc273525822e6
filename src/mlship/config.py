"""Typed configuration: ``params.yaml`` parsed once into frozen pydantic models.

No other module opens ``params.yaml``. The CLI loads it once and hands each stage the slice it needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from mlship import declared
from mlship.tasks import HIGHER_IS_BETTER

DEFAULT_PARAMS_PATH = Path("params.yaml")

Metric = str

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="lower-case hex sha256")]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Paths(_Frozen):
    """Where each stage reads and writes; ``dvc.yaml`` interpolates the same keys."""

    raw: Path
    validated: Path
    train: Path
    test: Path
    model: Path
    simple_model: Path
    metrics: Path
    plots: Path
    predictions: Path = Field(
        default=Path("models/predictions.csv"),
        description="test-set predictions (DVC-cached, not in git): the report's paired comparison",
    )
    reports: Path


class PackageSource(_Frozen):
    """A file shipped inside an installed Python distribution (the default data)."""

    kind: Literal["package"]
    package: str
    path: str
    sha256: Sha256


class FileSource(_Frozen):
    """A file in the repository, e.g. tracked with ``dvc add`` or ``dvc import-url``."""

    kind: Literal["file"]
    path: Path
    sha256: Sha256


class DataConfig(_Frozen):
    schema_path: Path = Field(
        default=Path("schema.yaml"),
        alias="schema",
        description="the data contract: columns, target and task, sensitive attributes, reader options",
    )
    source: Annotated[PackageSource | FileSource, Field(discriminator="kind")]


class SplitConfig(_Frozen):
    test_size: float = Field(gt=0.0, lt=1.0)
    seed: int = Field(ge=0)
    stratify: bool = True


class HistGradientBoostingParams(_Frozen):
    learning_rate: float = Field(gt=0.0, le=1.0)
    max_iter: int = Field(ge=1)
    max_leaf_nodes: int = Field(ge=2)
    min_samples_leaf: int = Field(ge=1)
    l2_regularization: float = Field(ge=0.0)
    early_stopping: bool = Field(
        default=False,
        description="stop adding trees once the loss on a seeded validation share of the training split "
        "stops improving",
    )
    validation_fraction: float = Field(
        default=0.1, gt=0.0, lt=1.0, description="early stopping: share of the training split held out"
    )
    n_iter_no_change: int = Field(
        default=10, ge=1, description="early stopping: rounds without improvement before stopping"
    )


class LinearParams(_Frozen):
    """Logistic regression for classifiers; ridge regression (``alpha = 1 / C``) for regression."""

    C: float = Field(gt=0.0, description="inverse regularization strength")
    max_iter: int = Field(ge=1)


Estimator = Literal["hist_gradient_boosting", "linear"]


class ModelConfig(_Frozen):
    estimator: Estimator
    simple_model: Estimator = Field(
        description="simpler model trained in the same run that the candidate must beat (gates.simple_model)"
    )
    seed: int = Field(ge=0)
    monotonic: dict[str, Literal[-1, 1]] = Field(
        default_factory=dict,
        description="feature -> +1 (prediction never falls as it rises) or -1; honoured by gradient boosting",
    )
    hist_gradient_boosting: HistGradientBoostingParams
    linear: LinearParams


class EvaluateConfig(_Frozen):
    threshold: float = Field(
        gt=0.0, lt=1.0, description="binary: probability at or above which the positive label is given"
    )
    calibration_bins: int = Field(ge=2, le=100)


Ratio = Annotated[float, Field(ge=0.0, le=1.0)]


class DataIntegrityChecks(_Frozen):
    """Conditions on the validated data (Deepchecks ``data_integrity``)."""

    max_null_ratio: Ratio
    max_mixed_nulls: int = Field(ge=1, description="distinct spellings of a missing value allowed per column")
    rare_type_ratio_range: tuple[Ratio, Ratio] = Field(
        description="a column mixing types fails when the rarer type's share falls inside this range"
    )
    max_duplicate_ratio: Ratio
    max_conflicting_label_ratio: Ratio
    max_feature_label_pps: Ratio
    max_special_character_ratio: Ratio
    feature_correlation_threshold: Ratio
    max_correlated_pairs: int = Field(ge=0)


class TrainTestChecks(_Frozen):
    """Conditions comparing the train and test splits (Deepchecks ``train_test_validation``)."""

    min_test_train_size_ratio: Ratio
    max_new_labels: int = Field(ge=0, description="classifiers: test labels never seen in training")
    max_new_category_ratio: Ratio
    max_test_rows_in_train: Ratio
    max_pps_difference: Ratio
    max_pps_in_train: Ratio
    max_numeric_drift: Ratio
    max_categorical_drift: Ratio
    max_label_drift: Ratio
    max_multivariate_drift: Ratio


class ModelEvaluationChecks(_Frozen):
    """Conditions on the trained model (Deepchecks ``model_evaluation``)."""

    max_train_test_degradation: Ratio
    min_roc_auc: Ratio = Field(description="classifiers: per class (one-vs-rest)")
    max_prediction_drift: Ratio
    min_gain_over_simple: float
    max_weak_segment_drop: Ratio
    weak_segment_features: int = Field(ge=1, description="search segments over the N most important features")
    weak_segment_samples: int = Field(ge=100)
    max_unused_high_variance_features: int = Field(ge=0)
    importance_rows: int = Field(ge=100, description="rows used to precompute permutation importance")
    importance_repeats: int = Field(ge=1)


class ChecksConfig(_Frozen):
    data_integrity: DataIntegrityChecks
    train_test: TrainTestChecks
    model_evaluation: ModelEvaluationChecks


def _known(metrics: dict[Metric, float], key: str) -> dict[Metric, float]:
    unknown = sorted(set(metrics) - set(HIGHER_IS_BETTER))
    if unknown:
        raise ValueError(
            f"gates.{key}: unknown metric(s) {', '.join(unknown)} "
            f"(known: {', '.join(sorted(HIGHER_IS_BETTER))})"
        )
    return metrics


def _check_direction(metrics: dict[Metric, float], lower_is_better: bool, key: str) -> dict[Metric, float]:
    _known(metrics, key)
    wrong = sorted(m for m in metrics if HIGHER_IS_BETTER[m] == lower_is_better)
    if wrong:
        other = "floors" if lower_is_better else "ceilings"
        raise ValueError(f"{', '.join(wrong)} belong(s) under gates.{other}, not gates.{key}")
    return metrics


def _known_metric(metric: Metric) -> Metric:
    if metric not in HIGHER_IS_BETTER:
        raise ValueError(f"unknown metric {metric!r} (known: {', '.join(sorted(HIGHER_IS_BETTER))})")
    return metric


class SliceGapGate(_Frozen):
    metric: Metric
    min_slice_size: int = Field(ge=1, description="slices with fewer test rows are reported, not judged")
    max_gap: dict[str, Annotated[float, Field(ge=0.0)]]

    _metric_is_known = field_validator("metric")(_known_metric)


class SimpleModelGate(_Frozen):
    metric: Metric
    min_margin: float = Field(description="how much better than the simple model the candidate must be")

    _metric_is_known = field_validator("metric")(_known_metric)


class IntervalSettings(_Frozen):
    """The bootstrap behind the report's intervals (and the regression gate when it judges intervals)."""

    resamples: int = Field(default=1000, ge=100, le=100_000, description="bootstrap resamples")
    seed: int = Field(default=0, ge=0, description="the same seed gives the same intervals")
    confidence: float = Field(default=0.95, gt=0.5, lt=1.0, description="interval coverage")


class CostMeasurement(_Frozen):
    """How ``mlship cost`` measures: interleaved rounds of single calls and of batches, in one process."""

    rounds: int = Field(default=30, ge=4, le=1000, description="A-B-B-A rounds of single-record calls")
    calls_per_block: int = Field(default=40, ge=1, le=10_000, description="calls per model per block")
    batch_records: int = Field(default=1000, ge=1, le=100_000, description="records per throughput batch")
    batch_rounds: int = Field(default=8, ge=2, le=1000, description="A-B-B-A rounds of batch calls")
    resolution: float = Field(
        default=0.15,
        ge=0.0,
        lt=1.0,
        description=(
            "a ratio within 1 +- this is within noise even when its interval excludes 1: two copies of one "
            "model measured side by side differ by up to this (docs/benchmarks.md)"
        ),
    )


class ServingGate(_Frozen):
    """What serving may cost: the PR's model beside the merge base's, measured by ``mlship cost``."""

    max_latency_ratio: float = Field(
        gt=1.0,
        description="PR / base one-record latency (p50 and p99), judged on the interval's lower bound",
    )
    max_model_mb: float = Field(gt=0.0, description="the model file's size on disk, in MB (10^6 bytes)")
    max_load_s: float = Field(
        gt=0.0, description="seconds to load and compile the model, as a service starts"
    )
    measure: CostMeasurement = Field(default_factory=CostMeasurement)


class GatesConfig(_Frozen):
    baseline_ref: str = Field(
        min_length=1, description="branch whose merge base provides the baseline metrics"
    )
    floors: dict[Metric, float]
    ceilings: dict[Metric, Annotated[float, Field(ge=0.0)]]
    max_regression: dict[Metric, Annotated[float, Field(ge=0.0)]]
    regression_judges: Literal["point", "interval"] = Field(
        default="point",
        description=(
            "point: the observed delta must stay within max_regression; interval: only a regression whose "
            "whole bootstrap interval lies beyond max_regression fails"
        ),
    )
    intervals: IntervalSettings = Field(default_factory=IntervalSettings)
    slice_gap: SliceGapGate
    simple_model: SimpleModelGate
    serving: ServingGate

    @field_validator("floors")
    @classmethod
    def _floors_are_higher_is_better(cls, value: dict[Metric, float]) -> dict[Metric, float]:
        return _check_direction(value, lower_is_better=False, key="floors")

    @field_validator("ceilings")
    @classmethod
    def _ceilings_are_lower_is_better(cls, value: dict[Metric, float]) -> dict[Metric, float]:
        return _check_direction(value, lower_is_better=True, key="ceilings")

    @field_validator("max_regression")
    @classmethod
    def _regression_metrics_are_known(cls, value: dict[Metric, float]) -> dict[Metric, float]:
        return _known(value, "max_regression")


class ServiceConfig(_Frozen):
    name: str = Field(
        pattern=r"^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$",
        description="model, bento, DVC artifact and image name (DVC/GTO artifact names allow no '.')",
    )
    max_records: int = Field(ge=1, le=100_000)
    workers: int = Field(ge=1, le=64)
    threads_per_worker: int = Field(ge=1, le=64)
    port: int = Field(ge=1, le=65535)
    tracing: bool = Field(
        default=False,
        description="OpenTelemetry spans per request (needs an exporter in BentoML's config to be useful)",
    )


EnvironmentName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")]


class EnvironmentConfig(_Frozen):
    """One deployment environment run locally by podman behind a stable loopback port."""

    port: int = Field(ge=1024, le=65535, description="stable 127.0.0.1 port the environment answers on")


def _default_environments() -> dict[str, EnvironmentConfig]:
    return {"staging": EnvironmentConfig(port=3100), "production": EnvironmentConfig(port=3200)}


class SigningConfig(_Frozen):
    """Who the environments trust: the project's signing key (docs/runbook.md, "Signing keys")."""

    required: bool = Field(
        default=True,
        description="every push signed, every deployment pulled under the key's policy; false: neither",
    )
    public_key: Path = Field(
        default=Path("deploy/signing/signing-key.asc"),
        description="the public key, committed: git says whom the environments trust",
    )
    home: Path = Field(
        default=Path(".deploy/signing"),
        description="GnuPG home with the private key, never committed ($MLSHIP_SIGNING_HOME overrides)",
    )
    name: str = Field(default="mlship image signing", min_length=1, description="the key's user id")


class DeployConfig(_Frozen):
    """Shipping: where images go, which environments exist and how a deployment is judged healthy."""

    registry_port: int = Field(
        default=5000, ge=1024, le=65535, description="local registry port ($REGISTRY_PORT overrides)"
    )
    environments: dict[EnvironmentName, EnvironmentConfig] = Field(default_factory=_default_environments)
    container_port: int = Field(default=3000, ge=1, le=65535, description="port the server listens on inside")
    ready_timeout_s: float = Field(
        default=90.0, gt=0.0, description="how long a new container may take to be ready"
    )
    drain_s: float = Field(
        default=1.0, ge=0.0, description="grace for in-flight requests before the old one stops"
    )
    state_dir: Path = Field(
        default=Path("deploy/environments"), description="desired state per environment (git)"
    )
    k8s_overlays: Path = Field(
        default=Path("deploy/k8s/overlays"), description="kustomize overlays per environment"
    )
    runtime_dir: Path = Field(default=Path(".deploy"), description="local registry data, locks, proxy state")
    signing: SigningConfig = Field(default_factory=SigningConfig)

    @field_validator("environments")
    @classmethod
    def _staging_and_production(cls, value: dict[str, EnvironmentConfig]) -> dict[str, EnvironmentConfig]:
        missing = {"staging", "production"} - set(value)
        if missing:
            raise ValueError(f"missing environment(s): {', '.join(sorted(missing))}")
        ports = [env.port for env in value.values()]
        if len(set(ports)) != len(ports):
            raise ValueError("each environment needs its own port")
        return value


class MonitoringConfig(_Frozen):
    """What the service captures (src/mlship/serving/capture.py) and how `mlship monitor` judges it."""

    enabled: bool = Field(default=True, description="capture every answered /predict record")
    sample_rate: float = Field(default=1.0, ge=0.0, le=1.0, description="share of answered requests captured")
    directory: Path = Field(
        default=Path("/var/lib/mlship/capture"),
        description="where the service writes captures (inside the container; $MLSHIP_CAPTURE_DIR overrides)",
    )
    max_bytes: int = Field(
        default=256 * 1024 * 1024, ge=64 * 1024, description="size cap per worker; oldest files rotated away"
    )
    retention_days: float = Field(
        default=30.0, gt=0.0, description="captured records older than this are deleted"
    )
    pii: Literal["drop", "hash"] = Field(
        default="drop",
        description="schema columns marked `pii: true`: dropped, or a keyed hash ($MLSHIP_PII_KEY)",
    )
    min_records: int = Field(default=200, ge=1, description="fewer captured records: NOT JUDGED")
    max_numeric_drift: float = Field(
        default=0.10, ge=0.0, le=1.0, description="Kolmogorov-Smirnov per numeric feature"
    )
    max_categorical_drift: float = Field(
        default=0.10, ge=0.0, le=1.0, description="Cramer's V per categorical feature"
    )
    max_prediction_drift: float = Field(
        default=0.10, ge=0.0, le=1.0, description="served outputs vs the reference's"
    )
    max_multivariate_drift: float = Field(
        default=0.25, ge=0.0, le=1.0, description="domain classifier drift score"
    )
    retrain_on: float = Field(
        default=0.20, ge=0.0, le=1.0, description="a feature drift score at or past this asks for retraining"
    )
    drift_samples: int = Field(default=10_000, ge=100, description="rows per side the drift checks sample")
    skew_samples: int = Field(default=2_000, ge=1, description="captured records re-scored offline")
    max_refusal_rate: float = Field(default=0.05, ge=0.0, le=1.0, description="refused / all requests")
    max_latency_ratio: float = Field(
        default=3.0,
        gt=1.0,
        description="served one-record latency (p50, p99) / the offline one of the same model version",
    )
    max_missing_ratio: float = Field(default=0.10, ge=0.0, le=1.0, description="per feature, served traffic")
    max_metric_gap: float = Field(
        default=0.05, ge=0.0, description="live metric worse than the test metric by more"
    )
    max_model_age_days: float = Field(
        default=180.0, gt=0.0, description="age of the served model's training commit"
    )
    windows: int = Field(default=6, ge=1, le=50, description="time windows of the drift chart per feature")


Scale = Literal["log", "linear", "int"]
Choice = bool | int | float | str


class Dimension(_Frozen):
    """One searched parameter: a range (``low``, ``high``, ``scale``) or a list of ``choices``."""

    low: float | None = Field(default=None, description="smallest value drawn (inclusive)")
    high: float | None = Field(default=None, description="largest value drawn (inclusive)")
    scale: Scale | None = Field(
        default=None, description="log: log-uniform; linear: uniform; int: uniform over the integers"
    )
    choices: list[Choice] | None = Field(default=None, description="values drawn with equal chances")

    @model_validator(mode="after")
    def _range_or_choices(self) -> Dimension:
        bounds = (self.low, self.high, self.scale)
        if self.choices is not None:
            if any(b is not None for b in bounds):
                raise ValueError("give either choices or low/high/scale, not both")
            if not self.choices:
                raise ValueError("empty choices: give at least one value")
            return self
        if self.low is None or self.high is None or self.scale is None:
            raise ValueError("a range needs low, high and scale (log | linear | int), or give choices")
        if not self.low < self.high:
            raise ValueError(f"empty range: low {self.low:g} is not below high {self.high:g}")
        if self.scale == "log" and self.low <= 0:
            raise ValueError(f"a log scale needs low > 0, not {self.low:g}")
        if self.scale == "int" and not (float(self.low).is_integer() and float(self.high).is_integer()):
            raise ValueError("an int scale needs whole-number bounds")
        return self

    def values(self) -> list[Choice]:
        """The values whose validity bounds the whole dimension: the choices, or both ends of the range."""
        if self.choices is not None:
            return list(self.choices)
        assert self.low is not None  # noqa: S101 - checked by the validator
        assert self.high is not None  # noqa: S101 - likewise
        if self.scale == "int":
            return [int(self.low), int(self.high)]
        return [self.low, self.high]


def _within(params_model: type[BaseModel], dimension: Dimension | None, name: str) -> Dimension | None:
    """``dimension`` if every value it can draw is a valid ``name`` for ``params_model`` (e.g. no negative
    learning rate), else the estimator's own complaint."""
    if dimension is None:
        return None
    from pydantic import TypeAdapter, ValidationError  # noqa: PLC0415 - only when a space is declared

    field = params_model.model_fields[name]
    integer = field.annotation is int
    if field.annotation is bool and dimension.choices is None:
        raise ValueError(f"{name} is true or false: give choices, not a range")
    if integer and dimension.scale in ("log", "linear"):
        raise ValueError(f"{name} takes whole numbers: scale int, or choices")
    kind: Any = Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
    adapter: TypeAdapter[Any] = TypeAdapter(kind)
    for value in dimension.values():
        try:
            adapter.validate_python(value, strict=integer or field.annotation is bool)
        except ValidationError as invalid:
            raise ValueError(f"{value!r} is not a valid {name}: {invalid.errors()[0]['msg']}") from None
    return dimension


class _Space(_Frozen):
    """A search space for one estimator: each key is one of its parameters in ``model.<estimator>``."""

    @field_validator("*")
    @classmethod
    def _valid_for_the_estimator(cls, value: Dimension | None, info: ValidationInfo) -> Dimension | None:
        assert info.field_name is not None  # noqa: S101 - always set for a field validator
        return _within(cls.params_model(), value, info.field_name)

    @classmethod
    def params_model(cls) -> type[BaseModel]:
        raise NotImplementedError

    def dimensions(self) -> dict[str, Dimension]:
        """The searched parameters, in declared order."""
        return {name: value for name, value in self if isinstance(value, Dimension)}


class HistGradientBoostingSpace(_Space):
    learning_rate: Dimension | None = None
    max_iter: Dimension | None = None
    max_leaf_nodes: Dimension | None = None
    min_samples_leaf: Dimension | None = None
    l2_regularization: Dimension | None = None
    early_stopping: Dimension | None = None
    validation_fraction: Dimension | None = None
    n_iter_no_change: Dimension | None = None

    @classmethod
    def params_model(cls) -> type[BaseModel]:
        return HistGradientBoostingParams


class LinearSpace(_Space):
    C: Dimension | None = None
    max_iter: Dimension | None = None

    @classmethod
    def params_model(cls) -> type[BaseModel]:
        return LinearParams


def _default_hgb_space() -> HistGradientBoostingSpace:
    return HistGradientBoostingSpace(
        learning_rate=Dimension(low=0.03, high=0.3, scale="log"),
        max_leaf_nodes=Dimension(low=15, high=63, scale="int"),
        min_samples_leaf=Dimension(low=10, high=100, scale="int"),
        l2_regularization=Dimension(low=0.0, high=1.0, scale="linear"),
    )


def _default_linear_space() -> LinearSpace:
    return LinearSpace(C=Dimension(low=0.01, high=100.0, scale="log"))


class TuneSpace(_Frozen):
    """Per estimator: ``mlship tune`` searches the block of ``model.estimator``."""

    hist_gradient_boosting: HistGradientBoostingSpace = Field(default_factory=_default_hgb_space)
    linear: LinearSpace = Field(default_factory=_default_linear_space)


class TuneConfig(_Frozen):
    """The hyper-parameter search (``mlship tune``, docs/forking.md): on the training split only."""

    trials: int = Field(default=20, ge=2, le=10_000, description="candidates drawn from the space")
    seed: int = Field(default=0, ge=0, description="the same seed draws the same candidates and folds")
    folds: int = Field(default=5, ge=2, le=20, description="cross-validation folds of the training split")
    metric: Metric | None = Field(
        default=None, description="the metric selected on (default: the task's primary metric)"
    )
    factor: int = Field(
        default=3, ge=2, le=10, description="successive halving: each round keeps the best 1/factor"
    )
    space: TuneSpace = Field(default_factory=TuneSpace)

    @field_validator("metric")
    @classmethod
    def _metric_is_known(cls, value: Metric | None) -> Metric | None:
        return None if value is None else _known_metric(value)


class Params(_Frozen):
    """The whole of ``params.yaml``."""

    paths: Paths
    data: DataConfig
    split: SplitConfig
    model: ModelConfig
    evaluate: EvaluateConfig
    checks: ChecksConfig
    gates: GatesConfig
    service: ServiceConfig
    deploy: DeployConfig = Field(default_factory=DeployConfig)
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    tune: TuneConfig = Field(default_factory=TuneConfig)


class ConfigError(declared.DeclarationError):
    """``params.yaml`` is missing, unreadable or does not match the schema."""


def mismatches(
    params: Params, task_metrics: tuple[str, ...], numeric: list[str], sensitive: tuple[str, ...]
) -> list[str]:
    """Settings in ``params.yaml`` that do not fit the declared data (its task's metrics, its columns)."""
    problems: list[str] = []
    gates = params.gates
    keyed = {
        "gates.floors": list(gates.floors),
        "gates.ceilings": list(gates.ceilings),
        "gates.max_regression": list(gates.max_regression),
        "gates.slice_gap.metric": [gates.slice_gap.metric],
        "gates.simple_model.metric": [gates.simple_model.metric],
        "tune.metric": [params.tune.metric] if params.tune.metric else [],
    }
    for key, names in keyed.items():
        foreign = [name for name in names if name not in task_metrics]
        if foreign:
            problems.append(
                f"{key}: {', '.join(foreign)} is not a metric of this task "
                f"(metrics: {', '.join(task_metrics)})"
            )
    unknown = sorted(set(gates.slice_gap.max_gap) - set(sensitive))
    if unknown:
        problems.append(
            f"gates.slice_gap.max_gap: {', '.join(unknown)} is not a sensitive attribute "
            f"(schema sensitive: {', '.join(sensitive) or 'none'})"
        )
    not_numeric = sorted(set(params.model.monotonic) - set(numeric))
    if not_numeric:
        problems.append(
            f"model.monotonic: {', '.join(not_numeric)} is not a numeric feature "
            f"(numeric features: {', '.join(numeric) or 'none'})"
        )
    return problems


def parse_params(raw: Any, source: Path = DEFAULT_PARAMS_PATH) -> Params:
    """Validate an already-parsed mapping; errors name every offending key."""
    return declared.parse(raw, Params, source, ConfigError, "setting")


def load_params(path: Path = DEFAULT_PARAMS_PATH) -> Params:
    """Read and validate ``params.yaml``."""
    return declared.load(path, Params, ConfigError, "parameters", "setting")


def params_json_schema() -> dict[str, Any]:
    """JSON schema of ``params.yaml`` (printed by ``mlship config --schema``)."""
    return Params.model_json_schema()
