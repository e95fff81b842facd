"""The ``samples`` catalog every workspace has: small, generated deterministically, no downloads.

* ``samples.nyctaxi.trips`` — 200 taxi trips (the columns of Databricks' own sample);
* ``samples.tpch.region`` (5), ``nation`` (25), ``customer`` (150), ``orders`` (1,500) — TPC-H's
  shapes and types, values from simple arithmetic on the row number (same data on every run).

It is built in memory each time a workspace engine starts (a few milliseconds) and is read-only
for everyone, admins included, as a Delta Sharing catalog is.
"""
from __future__ import annotations

CATALOG = "samples"

_NATIONS = [("ALGERIA", 0), ("ARGENTINA", 1), ("BRAZIL", 1), ("CANADA", 1), ("EGYPT", 4), ("ETHIOPIA", 0),
            ("FRANCE", 3), ("GERMANY", 3), ("INDIA", 2), ("INDONESIA", 2), ("IRAN", 4), ("IRAQ", 4),
            ("JAPAN", 2), ("JORDAN", 4), ("KENYA", 0), ("MOROCCO", 0), ("MOZAMBIQUE", 0), ("PERU", 1),
            ("CHINA", 2), ("ROMANIA", 3), ("SAUDI ARABIA", 4), ("VIETNAM", 2), ("RUSSIA", 3),
            ("UNITED KINGDOM", 3), ("UNITED STATES", 1)]
_REGIONS = ["AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"]

# Table → (comment, SQL creating it from the catalog alias ``{c}``).
TABLES = {
    ("nyctaxi", "trips"): ("Sample New York City taxi trips (generated)", """
        CREATE TABLE {c}.nyctaxi.trips AS
        SELECT pickup AS tpep_pickup_datetime,
               pickup + to_minutes(CAST(4 + (i * 7) % 41 AS BIGINT)) AS tpep_dropoff_datetime,
               CAST(round(0.4 + ((i * 37) % 150) / 10.0, 2) AS DOUBLE) AS trip_distance,
               CAST(round(3.5 + ((i * 53) % 420) / 10.0, 2) AS DOUBLE) AS fare_amount,
               CAST(10001 + (i * 13) % 280 AS INTEGER) AS pickup_zip,
               CAST(10001 + (i * 29) % 280 AS INTEGER) AS dropoff_zip
        FROM (SELECT i, TIMESTAMPTZ '2016-02-01 00:00:00+00' + to_minutes(CAST((i * 211) % 41000 AS BIGINT))
                        AS pickup
              FROM range(200) r(i))
        ORDER BY i"""),
    ("tpch", "region"): ("TPC-H regions", """
        CREATE TABLE {c}.tpch.region AS
        SELECT CAST(k AS BIGINT) AS r_regionkey, name AS r_name, 'region ' || name AS r_comment
        FROM (SELECT unnest(range(5)) AS k, unnest({regions}) AS name)"""),
    ("tpch", "nation"): ("TPC-H nations", """
        CREATE TABLE {c}.tpch.nation AS
        SELECT CAST(k AS BIGINT) AS n_nationkey, name AS n_name, CAST(region AS BIGINT) AS n_regionkey,
               'nation ' || lower(name) AS n_comment
        FROM (SELECT unnest(range(25)) AS k, unnest({nations}) AS name, unnest({nation_regions}) AS region)"""),
    ("tpch", "customer"): ("TPC-H customers (150 rows)", """
        CREATE TABLE {c}.tpch.customer AS
        SELECT CAST(i + 1 AS BIGINT) AS c_custkey,
               'Customer#' || lpad(CAST(i + 1 AS VARCHAR), 9, '0') AS c_name,
               'Street ' || CAST((i * 7919) % 9973 AS VARCHAR) AS c_address,
               CAST((i * 7) % 25 AS BIGINT) AS c_nationkey,
               CAST(10 + (i * 7) % 25 AS VARCHAR) || '-' || lpad(CAST((i * 311) % 1000 AS VARCHAR), 3, '0') || '-'
                   || lpad(CAST((i * 127) % 1000 AS VARCHAR), 3, '0') || '-'
                   || lpad(CAST((i * 8191) % 10000 AS VARCHAR), 4, '0') AS c_phone,
               CAST(((i * 7919) % 1099999) / 100.0 - 999.99 AS DECIMAL(18,2)) AS c_acctbal,
               ['AUTOMOBILE', 'BUILDING', 'FURNITURE', 'HOUSEHOLD', 'MACHINERY'][i % 5 + 1] AS c_mktsegment,
               'customer comment ' || CAST(i AS VARCHAR) AS c_comment
        FROM range(150) r(i) ORDER BY i"""),
    ("tpch", "orders"): ("TPC-H orders (1,500 rows)", """
        CREATE TABLE {c}.tpch.orders AS
        SELECT CAST(i * 4 + 1 AS BIGINT) AS o_orderkey,
               CAST(1 + (i * 31) % 150 AS BIGINT) AS o_custkey,
               ['O', 'F', 'P'][i % 3 + 1] AS o_orderstatus,
               CAST(900 + ((i * 104729) % 45000000) / 100.0 AS DECIMAL(18,2)) AS o_totalprice,
               CAST(DATE '1992-01-01' + CAST((i * 13) % 2400 AS INTEGER) AS DATE) AS o_orderdate,
               ['1-URGENT', '2-HIGH', '3-MEDIUM', '4-NOT SPECIFIED', '5-LOW'][i % 5 + 1] AS o_orderpriority,
               'Clerk#' || lpad(CAST(1 + (i * 17) % 1000 AS VARCHAR), 9, '0') AS o_clerk,
               CAST(0 AS INTEGER) AS o_shippriority,
               'order comment ' || CAST(i AS VARCHAR) AS o_comment
        FROM range(1500) r(i) ORDER BY i"""),
}


def _list(values) -> str:
    return "[" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + "]"


def statements(alias_sql: str) -> list[str]:
    """DuckDB statements building the samples catalog inside the attached database ``alias_sql``."""
    subs = {"regions": _list(_REGIONS), "nations": _list(n for n, _ in _NATIONS),
            "nation_regions": "[" + ", ".join(str(r) for _, r in _NATIONS) + "]"}
    out = [f"CREATE SCHEMA IF NOT EXISTS {alias_sql}.{schema}" for schema in ("nyctaxi", "tpch")]
    for _, sql in TABLES.values():
        for key, value in subs.items():
            sql = sql.replace("{" + key + "}", value)
        out.append(sql.replace("{c}", alias_sql))
    return out


def comment(schema: str, table: str) -> str | None:
    entry = TABLES.get((schema, table))
    return entry[0] if entry else None
