"""BG/NBD + Gamma-Gamma predictions per buyer as of as_of_date.

One row per person of int_person_value_metrics with a purchase day (t not null):
p_alive, churn_probability, expected_purchases_90d, expected_average_value and
expected_clv_12m. Fitting and scoring live in lifecycle_warehouse.clv, the module the
CDNOW holdout test validates (see DECISIONLOG "Predictive lifecycle").

Engine-neutral: dbt.ref gives a DuckDB relation on DuckDB and a Spark DataFrame on
Spark; both are read into pandas (one row per buyer: compact) and the pandas frame
returned is written back by the adapter.
"""

from lifecycle_warehouse.clv.model import predict_persons

COLUMNS = ["person_id", "frequency", "recency", "t", "monetary_value"]


def model(dbt, session):
    dbt.config(materialized="table")
    sample_size = int(dbt.config.get("clv_fit_sample_size"))
    penalizer = float(dbt.config.get("clv_penalizer"))
    discount_rate = float(dbt.config.get("clv_monthly_discount_rate"))

    value_metrics = dbt.ref("int_person_value_metrics")
    if hasattr(value_metrics, "toPandas"):  # Spark DataFrame
        persons = value_metrics.select(*COLUMNS).toPandas()
    else:  # DuckDB relation
        persons = value_metrics.project(", ".join(COLUMNS)).df()
    persons = persons.sort_values("person_id", kind="stable").reset_index(drop=True)
    predictions, _ = predict_persons(
        persons, sample_size=sample_size, penalizer=penalizer, horizon_days=90, clv_months=12,
        monthly_discount_rate=discount_rate,
    )
    return predictions.astype({"person_id": "object"})
