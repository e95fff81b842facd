"""Databricks SQL → a :class:`Plan`: what the statement touches and the DuckDB SQL that does it.

sqlglot parses the statement in the ``databricks`` dialect. From the AST the planner

* finds every table the statement reads or writes (CTE names and table functions excluded), and
  resolves one- and two-part names against the session's current catalog and schema;
* rewrites each of those names to the fully qualified DuckDB name (``"uc__main"."raw"."t"``), so
  name resolution is decided here, not by DuckDB, and grant checks see exactly what runs;
* binds ``:name`` / ``?`` parameter markers to typed literals (``CAST('42' AS INT)``);
* replaces ``current_catalog()``, ``current_schema()``/``current_database()`` and
  ``current_user()`` with the session's values;
* generates DuckDB SQL with ``expression.sql(dialect="duckdb")``.

Statements sqlglot keeps as opaque commands (``SHOW ...``, ``DESCRIBE CATALOG``, ``CREATE
CATALOG``, ``GRANT``) are parsed here from sqlglot's tokens into "meta" plans that the engine
answers from its catalog.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from .errors import SqlError, syntax_error, unsupported
from .names import HIVE, INFORMATION_SCHEMA, Session, alias, quote

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "Unsupported property ..." warnings on DDL

DIALECT = Dialect.get_or_raise("databricks")
NO_OP_COMMANDS = {"OPTIMIZE", "VACUUM", "ANALYZE", "REFRESH", "CACHE", "UNCACHE", "MSCK", "FSCK", "CLEAR"}
DML = {exp.Insert: "insert", exp.Update: "update", exp.Delete: "delete", exp.Merge: "merge"}


@dataclass
class Ref:
    """One object a statement touches, and how.

    ``action``: read · write (INSERT/UPDATE/DELETE/MERGE/TRUNCATE) · create (table or view) ·
    drop · alter · browse (DESCRIBE, SHOW) · create_schema · drop_schema · alter_schema ·
    browse_schema · browse_catalog.
    """

    action: str
    catalog: str
    schema: str | None = None
    table: str | None = None


@dataclass
class Plan:
    kind: str  # query · dml · ddl · use · set · noop · describe_* · show_* · create_catalog · grant · revoke
    sql: list[str] = field(default_factory=list)
    refs: list[Ref] = field(default_factory=list)
    session: Session | None = None  # the session after the statement (USE changes it)
    dml: str | None = None  # insert · update · delete · merge (shapes the result row)
    args: dict = field(default_factory=dict)


Resolver = Callable[[str], str]  # user-written catalog name → the catalog's canonical name


# ----------------------------------------------------------------------------- splitting

def _tokens(sql: str) -> list[Token]:
    try:
        return DIALECT.tokenize(sql)
    except TokenError as exc:
        raise syntax_error(None, str(exc).splitlines()[0]) from None


def split(sql: str) -> list[str]:
    """The statements of a script (``;``-separated; comments and empty statements dropped)."""
    parts, start = [], 0
    for tok in _tokens(sql):
        if tok.token_type == TokenType.SEMICOLON:
            parts.append(sql[start:tok.start])
            start = tok.end + 1
    parts.append(sql[start:])
    return [p.strip() for p in parts if p.strip() and _tokens(p)]


# ----------------------------------------------------------------------------- entry point

def plan(text: str, *, session: Session, user: str, resolve: Resolver, parameters=None) -> Plan:
    """Plan one statement (see :func:`split` for scripts)."""
    tokens = _tokens(text)
    if not tokens:
        raise syntax_error(None, "The statement is empty.")
    words = [t.text.upper() for t in tokens[:3]]
    if tokens[0].token_type == TokenType.SHOW:
        return _show(_tokens(text[tokens[0].end + 1:]), session, resolve)
    if words[0] in ("DESCRIBE", "DESC") and words[1:2] == ["CATALOG"]:
        return _describe_catalog(tokens[2:], resolve)
    if words[0] == "CREATE" and words[1:2] == ["CATALOG"]:
        return _create_catalog(tokens[2:])
    if words[0] in ("GRANT", "REVOKE"):
        return _grant(words[0].lower(), tokens[1:], session, resolve)
    if words[0] == "SET":
        return _set(text)
    if words[0] in NO_OP_COMMANDS:
        return Plan("noop")
    try:
        expressions = [e for e in sqlglot.parse(text, read="databricks") if e is not None]
    except ParseError as exc:
        err = exc.errors[0] if exc.errors else {}
        raise syntax_error(err.get("highlight"), "") from None
    if len(expressions) != 1:
        raise syntax_error(None, "Expected exactly one statement.")
    expression = expressions[0]
    names = _output_names(expression)
    _bind_parameters(expression, parameters or [])
    _session_functions(expression, session, user)
    result = _plan_expression(expression, session, resolve)
    if result.kind == "query" and names:
        result.args["names"] = names
    return result


def _output_names(expression: exp.Expression) -> list[str] | None:
    """Result column names as Databricks shows them: aliases, column names, else the expression's
    Databricks SQL text (``count(*)`` is ``count(1)``, as in Spark). None when a ``*`` is involved."""
    select = expression
    while isinstance(select, (exp.SetOperation, exp.Subquery)):
        select = select.this if isinstance(select, exp.Subquery) else select.left
    if not isinstance(select, exp.Select):
        return None
    names = []
    for projection in select.expressions:
        if isinstance(projection, exp.Star) or projection.find(exp.Star) and not isinstance(projection, exp.Alias) \
                and not isinstance(projection, exp.Count):
            return None
        if isinstance(projection, (exp.Alias, exp.Column)):
            names.append(projection.alias_or_name)
        elif isinstance(projection, exp.Count) and isinstance(projection.this, exp.Star):
            names.append("count(1)")
        else:
            names.append(projection.sql(dialect="databricks", normalize_functions="lower"))
    return names


# ----------------------------------------------------------------------------- parameters

def _literal(param: dict) -> exp.Expression:
    value, type_ = param.get("value"), (param.get("type") or "STRING")
    try:
        to = exp.DataType.build(type_, dialect="databricks")
    except (ParseError, ValueError):
        raise SqlError("INVALID_PARAMETER_VALUE", f"Parameter {param.get('name') or '?'} has an unknown type "
                                                  f"{type_!r}.", "22023") from None
    if value is None:
        return exp.Cast(this=exp.Null(), to=to)
    if to.is_type(*exp.DataType.TEXT_TYPES):
        return exp.Literal.string(str(value))
    return exp.Cast(this=exp.Literal.string(str(value)), to=to)


def _bind_parameters(expression: exp.Expression, parameters: list[dict]) -> None:
    named = {p["name"]: p for p in parameters if p.get("name")}
    positional = iter([p for p in parameters if not p.get("name")])
    for marker in list(expression.find_all(exp.Placeholder)):
        name = marker.name
        if name:
            param = named.get(name) or next((p for k, p in named.items() if k.lower() == name.lower()), None)
            if param is None:
                raise SqlError("UNBOUND_SQL_PARAMETER", f"Found the unbound parameter: {name}. Please, fix "
                                                        "`args` and provide a mapping of the parameter to a SQL "
                                                        "literal.", "42P02")
        else:
            param = next(positional, None)
            if param is None:
                raise SqlError("UNBOUND_SQL_PARAMETER", "Found an unbound positional parameter marker (?).",
                               "42P02")
        marker.replace(_literal(param))


def _session_functions(expression: exp.Expression, session: Session, user: str) -> None:
    for node in list(expression.walk()):
        if isinstance(node, exp.CurrentCatalog):
            node.replace(exp.Literal.string(session.catalog))
        elif isinstance(node, (exp.CurrentSchema, exp.CurrentDatabase)):
            node.replace(exp.Literal.string(session.schema))
        elif isinstance(node, (exp.CurrentUser, exp.SessionUser)) or (
                isinstance(node, exp.Anonymous) and node.name.lower() == "user" and not node.expressions):
            node.replace(exp.Literal.string(user))


# ----------------------------------------------------------------------------- names

def _ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _part(node: exp.Table, key: str) -> str | None:
    value = node.args.get(key)
    return value.name if value is not None else None


def _resolve_table(node: exp.Table, session: Session, resolve: Resolver) -> tuple[str, str, str]:
    """(catalog, schema, table) of a table reference, written back as the qualified DuckDB name."""
    catalog = resolve(_part(node, "catalog")) if node.args.get("catalog") else session.catalog
    schema = (_part(node, "db") or session.schema).lower()
    table = node.name.lower()
    node.set("catalog", _ident(alias(catalog)))
    node.set("db", _ident(schema))
    node.set("this", _ident(table))
    return catalog, schema, table


def _schema_name(node: exp.Table, session: Session, resolve: Resolver, *, schema_key: str,
                 catalog_key: str) -> tuple[str, str]:
    """(catalog, schema) of a schema reference; sqlglot puts them in different slots per statement."""
    schema = _part(node, schema_key)
    if schema is None:
        raise syntax_error(None, "A schema name is required.")
    catalog = resolve(_part(node, catalog_key)) if node.args.get(catalog_key) else session.catalog
    return catalog, schema.lower()


def _table_refs(expression: exp.Expression):
    """Table nodes that name real tables (not CTEs, not table functions)."""
    ctes = {cte.alias_or_name.lower() for cte in expression.find_all(exp.CTE)}
    for node in expression.find_all(exp.Table):
        if not isinstance(node.this, exp.Identifier):
            continue
        if not node.args.get("db") and not node.args.get("catalog") and node.name.lower() in ctes:
            continue
        yield node


def _qualify(expression: exp.Expression, session: Session, resolve: Resolver,
             targets: dict[int, str] | None = None) -> list[Ref]:
    """Qualify every table reference; targets (by node id) get their action, the rest are reads."""
    targets = targets or {}
    refs = []
    for node in list(_table_refs(expression)):
        action = targets.get(id(node), "read")
        if action == "skip":
            continue
        catalog, schema, table = _resolve_table(node, session, resolve)
        if schema == INFORMATION_SCHEMA and catalog != HIVE:
            if action != "read":
                raise SqlError("INSUFFICIENT_PERMISSIONS", "Insufficient privileges: information_schema is "
                                                           "read-only.", "42501")
            refs.append(Ref("browse_catalog", catalog))
            _information_schema(node, catalog, table)
            continue
        refs.append(Ref(action, catalog, schema, table))
    for column in expression.find_all(exp.Column):
        if column.args.get("catalog"):
            column.set("catalog", _ident(alias(resolve(column.args["catalog"].name))))
    return refs


def _target(node: exp.Expression) -> exp.Table:
    return node.this if isinstance(node, exp.Schema) else node


# ----------------------------------------------------------------------------- information_schema

_INFO_VIEWS = {
    "catalogs": "SELECT {name} AS catalog_name, 'System user' AS catalog_owner, NULL AS comment",
    "schemata": (
        "SELECT {name} AS catalog_name, schema_name, 'System user' AS schema_owner, comment, "
        "NULL::TIMESTAMPTZ AS created, NULL AS created_by, NULL::TIMESTAMPTZ AS last_altered, "
        "NULL AS last_altered_by FROM duckdb_schemas() WHERE database_name = {alias} AND schema_name <> 'main' "
        "UNION ALL SELECT {name}, 'information_schema', 'System user', NULL, NULL, NULL, NULL, NULL"),
    "tables": (
        "SELECT {name} AS table_catalog, schema_name AS table_schema, table_name, 'MANAGED' AS table_type, "
        "'YES' AS is_insertable_into, NULL AS commit_action, 'System user' AS table_owner, comment, "
        "NULL::TIMESTAMPTZ AS created, NULL AS created_by, NULL::TIMESTAMPTZ AS last_altered, "
        "NULL AS last_altered_by, 'DELTA' AS data_source_format, NULL AS storage_sub_directory "
        "FROM duckdb_tables() WHERE database_name = {alias} "
        "UNION ALL SELECT {name}, schema_name, view_name, 'VIEW', 'NO', NULL, 'System user', comment, NULL, NULL, "
        "NULL, NULL, NULL, NULL FROM duckdb_views() WHERE database_name = {alias} AND NOT internal"),
    "views": (
        "SELECT {name} AS table_catalog, schema_name AS table_schema, view_name AS table_name, "
        "sql AS view_definition, 'NONE' AS check_option, 'NO' AS is_updatable, 'NO' AS is_insertable_into "
        "FROM duckdb_views() WHERE database_name = {alias} AND NOT internal"),
    "columns": (
        "SELECT {name} AS table_catalog, schema_name AS table_schema, table_name, column_name, "
        "column_index AS ordinal_position, column_default, CASE WHEN is_nullable THEN 'YES' ELSE 'NO' END "
        "AS is_nullable, pcsim_type_text(data_type) AS full_data_type, "
        "upper(regexp_extract(pcsim_type_text(data_type), '^[a-z_]+')) AS data_type, NULL::BIGINT AS character_maximum_length, "
        "NULL::BIGINT AS character_octet_length, numeric_precision, numeric_precision_radix, numeric_scale, "
        "NULL::BIGINT AS datetime_precision, NULL AS interval_type, NULL::BIGINT AS interval_precision, "
        "NULL::BIGINT AS maximum_cardinality, 'NO' AS is_identity, NULL AS identity_generation, "
        "NULL AS identity_start, NULL AS identity_increment, NULL AS identity_maximum, NULL AS identity_minimum, "
        "NULL AS identity_cycle, 'NO' AS is_generated, NULL AS generation_expression, 'NO' AS is_system_time_period_start, "
        "'NO' AS is_system_time_period_end, NULL AS system_time_period_timestamp_generation, 'NO' AS is_updatable, "
        "NULL::BIGINT AS partition_index, comment "
        "FROM duckdb_columns() WHERE database_name = {alias} AND NOT internal"),
}


_UNTYPED_NULL = re.compile(r"(?<![:\w])NULL AS ")


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _information_schema(node: exp.Table, catalog: str, view: str) -> None:
    """``<catalog>.information_schema.<view>`` as a subquery over DuckDB's own catalog functions."""
    template = _INFO_VIEWS.get(view)
    if template is None:
        raise SqlError("TABLE_OR_VIEW_NOT_FOUND", f"The table or view `{catalog}`.`information_schema`.`{view}` "
                                                  "cannot be found (the simulator serves catalogs, schemata, "
                                                  "tables, views and columns).", "42P01")
    sql = _UNTYPED_NULL.sub("NULL::VARCHAR AS ", template.format(name=_sql_string(catalog),
                                                                alias=_sql_string(alias(catalog))))
    subquery = sqlglot.parse_one(sql, read="duckdb").subquery(node.alias_or_name)
    node.replace(subquery)


# ----------------------------------------------------------------------------- statements

def _plan_expression(e: exp.Expression, session: Session, resolve: Resolver) -> Plan:
    if any(t.args.get("version") for t in e.find_all(exp.Table)):
        raise unsupported("Delta time travel (VERSION AS OF / TIMESTAMP AS OF)")
    if isinstance(e, (exp.Query, exp.Values)):
        refs = _qualify(e, session, resolve)
        return Plan("query", [e.sql(dialect="duckdb")], refs)
    if isinstance(e, exp.Insert):
        return _insert(e, session, resolve)
    if isinstance(e, (exp.Update, exp.Delete, exp.Merge)):
        refs = _qualify(e, session, resolve, {id(_target(e.this)): "write"})
        return Plan("dml", [e.sql(dialect="duckdb")], refs, dml=DML[type(e)])
    if isinstance(e, exp.TruncateTable):
        refs = _qualify(e, session, resolve, {id(t): "write" for t in e.expressions})
        return Plan("ddl", [e.sql(dialect="duckdb")], refs)
    if isinstance(e, exp.Create):
        return _create(e, session, resolve)
    if isinstance(e, exp.Drop):
        return _drop(e, session, resolve)
    if isinstance(e, exp.Alter):
        return _alter(e, session, resolve)
    if isinstance(e, exp.Comment):
        return _comment(e, session, resolve)
    if isinstance(e, exp.Describe):
        return _describe(e, session, resolve)
    if isinstance(e, exp.Use):
        return _use(e, session, resolve)
    if isinstance(e, exp.Set):
        return _set(e.sql(dialect="databricks"))
    if isinstance(e, exp.Command):
        return _command(e)
    if isinstance(e, exp.Copy):
        raise unsupported("COPY INTO (the simulator has no cloud storage)")
    raise unsupported(f"The statement {type(e).__name__.upper()}")


def _insert(e: exp.Insert, session: Session, resolve: Resolver) -> Plan:
    target = _target(e.this)
    refs = _qualify(e, session, resolve, {id(target): "write"})
    statements = []
    if e.args.get("overwrite"):
        statements.append(f"DELETE FROM {target.sql(dialect='duckdb')}")
        e.set("overwrite", False)
    statements.append(e.sql(dialect="duckdb"))
    return Plan("dml", statements, refs, dml="insert")


def _create(e: exp.Create, session: Session, resolve: Resolver) -> Plan:
    kind = (e.args.get("kind") or "").upper()
    if kind in ("SCHEMA", "DATABASE"):
        catalog, schema = _schema_name(e.this, session, resolve, schema_key="db", catalog_key="catalog")
        e.set("this", exp.Table(db=_ident(schema), catalog=_ident(alias(catalog))))
        comment = _property(e, exp.SchemaCommentProperty)
        e.set("properties", None)
        return Plan("ddl", [e.sql(dialect="duckdb")], [Ref("create_schema", catalog, schema)],
                    args={"created": ("schema", catalog, schema, None), "comment": comment,
                          "replace": bool(e.args.get("replace"))})
    if kind not in ("TABLE", "VIEW"):
        raise unsupported(f"CREATE {kind}")
    if _property(e, exp.TemporaryProperty, value=False):
        raise unsupported("CREATE TEMPORARY VIEW (views are created in a schema)")
    target = _target(e.this)
    refs = _qualify(e, session, resolve, {id(target): "create"})
    created = next(r for r in refs if r.action == "create")
    comment = _property(e, exp.SchemaCommentProperty)
    statements = [e.sql(dialect="duckdb")]
    name = target.sql(dialect="duckdb")
    if comment is not None:
        statements.append(f"COMMENT ON {kind} {name} IS {_sql_string(comment)}")
    if isinstance(e.this, exp.Schema):
        for col in e.this.expressions:
            for constraint in col.args.get("constraints") or []:
                if isinstance(constraint.kind, exp.CommentColumnConstraint):
                    statements.append(f"COMMENT ON COLUMN {name}.{quote(col.name)} IS "
                                      f"{_sql_string(constraint.kind.this.name)}")
    ctas = kind == "TABLE" and isinstance(e.expression, exp.Query)
    return Plan("dml" if ctas else "ddl", statements, refs, dml="insert" if ctas else None,
                args={"created": ("view" if kind == "VIEW" else "table", created.catalog, created.schema,
                                  created.table)})


def _property(e: exp.Create, kind, value: bool = True):
    """The value of a property of the statement (``value=False``: whether it is there)."""
    props = e.args.get("properties")
    for prop in (props.expressions if props else []):
        if isinstance(prop, kind):
            return prop.this.name if value else True
    return None


def _drop(e: exp.Drop, session: Session, resolve: Resolver) -> Plan:
    kind = (e.args.get("kind") or "").upper()
    nodes = e.args.get("tables") or ([e.this] if e.this else [])
    if kind in ("SCHEMA", "DATABASE"):
        catalog, schema = _schema_name(nodes[0], session, resolve, schema_key="db", catalog_key="catalog")
        e.set("tables", [exp.Table(db=_ident(schema), catalog=_ident(alias(catalog)))])
        return Plan("ddl", [e.sql(dialect="duckdb")], [Ref("drop_schema", catalog, schema)],
                    args={"dropped": ("schema", catalog, schema, None), "if_exists": bool(e.args.get("exists")),
                          "cascade": bool(e.args.get("cascade"))})
    if kind not in ("TABLE", "VIEW"):
        raise unsupported(f"DROP {kind}")
    refs = _qualify(e, session, resolve, {id(n): "drop" for n in nodes})
    r = refs[0]
    return Plan("ddl", [e.sql(dialect="duckdb")], refs,
                args={"dropped": (kind.lower(), r.catalog, r.schema, r.table), "if_exists": bool(e.args.get("exists"))})


def _alter(e: exp.Alter, session: Session, resolve: Resolver) -> Plan:
    if (e.args.get("kind") or "").upper() not in ("TABLE", "VIEW"):
        raise unsupported(f"ALTER {e.args.get('kind')}")
    targets = {id(e.this): "alter"}
    rename = next((a for a in e.args.get("actions") or [] if isinstance(a, exp.AlterRename)), None)
    new_name = None
    if rename is not None:
        new_name = rename.this
        bare = exp.Table(this=_ident(new_name.name.lower()))  # DuckDB's RENAME TO takes the bare name
        rename.set("this", bare)
        targets[id(bare)] = "skip"
    refs = _qualify(e, session, resolve, targets)
    if new_name is None:
        statements = []
        for action in e.args.get("actions") or []:  # DuckDB adds one column per ALTER
            columns = action.expressions if isinstance(action, exp.Schema) else [action]
            for column in columns:
                single = e.copy()
                single.set("actions", [column.copy()])
                statements.append(single.sql(dialect="duckdb"))
        return Plan("ddl", statements or [e.sql(dialect="duckdb")], refs)
    old = refs[0]
    catalog = resolve(_part(new_name, "catalog")) if new_name.args.get("catalog") else old.catalog
    schema = (_part(new_name, "db") or old.schema).lower()
    if (catalog, schema) != (old.catalog, old.schema):
        raise unsupported("Renaming a table into another schema or catalog")
    new = (catalog, schema, new_name.name.lower())
    return Plan("ddl", [e.sql(dialect="duckdb")], refs + [Ref("create", *new)],
                args={"renamed": ((old.catalog, old.schema, old.table), new)})


def _comment(e: exp.Comment, session: Session, resolve: Resolver) -> Plan:
    kind = (e.args.get("kind") or "").upper()
    text = e.expression.name if e.expression is not None else None
    if kind in ("SCHEMA", "DATABASE"):
        catalog, schema = _schema_name(e.this, session, resolve, schema_key="this", catalog_key="db")
        return Plan("ddl", [], [Ref("alter_schema", catalog, schema)],
                    args={"schema_comment": (catalog, schema, text)})
    if kind in ("TABLE", "VIEW"):
        refs = _qualify(e, session, resolve, {id(e.this): "alter"})
        return Plan("ddl", [e.sql(dialect="duckdb")], refs)
    raise unsupported(f"COMMENT ON {kind}")


def _describe(e: exp.Describe, session: Session, resolve: Resolver) -> Plan:
    kind = (e.args.get("kind") or "TABLE").upper()
    extended = (e.args.get("style") or "").upper() == "EXTENDED"
    if kind in ("SCHEMA", "DATABASE"):
        catalog, schema = _schema_name(e.this, session, resolve, schema_key="this", catalog_key="db")
        return Plan("describe_schema", refs=[Ref("browse_schema", catalog, schema)],
                    args={"catalog": catalog, "schema": schema, "extended": extended})
    if not isinstance(e.this, exp.Table):
        raise unsupported("DESCRIBE QUERY")
    refs = _qualify(e, session, resolve, {id(e.this): "browse"})
    r = refs[0]
    return Plan("describe_table", refs=refs, args={"catalog": r.catalog, "schema": r.schema, "table": r.table,
                                                   "extended": extended})


def _use(e: exp.Use, session: Session, resolve: Resolver) -> Plan:
    kind = (e.args.get("kind").name.upper() if e.args.get("kind") else "SCHEMA")
    node = e.this
    if kind == "CATALOG":
        catalog = resolve(node.name)
        return Plan("use", refs=[Ref("browse_catalog", catalog)], session=Session(catalog))
    catalog, schema = _schema_name(node, session, resolve, schema_key="this", catalog_key="db")
    return Plan("use", refs=[Ref("browse_schema", catalog, schema)], session=Session(catalog, schema))


def _set(text: str) -> Plan:
    body = text.strip()[3:].strip()
    key, _, value = body.partition("=")
    return Plan("set", args={"key": key.strip() or None, "value": value.strip() or None})


def _command(e: exp.Command) -> Plan:
    verb = (e.this or "").upper()
    if verb in NO_OP_COMMANDS:
        return Plan("noop")
    raise unsupported(f"The statement {verb} {str(e.expression.name if e.expression else '')[:40]}".strip())


# ----------------------------------------------------------------------------- meta statements

class _Tokens:
    """A cursor over sqlglot tokens for the statements sqlglot does not parse itself."""

    CLAUSES = frozenset({"FROM", "IN", "LIKE", "ON", "TO", "COMMENT"})

    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i].text.upper() if self.i < len(self.tokens) else None

    def take(self, *words: str) -> bool:
        if self.peek() in words and self.tokens[self.i].token_type != TokenType.IDENTIFIER:
            self.i += 1
            return True
        return False

    def done(self) -> bool:
        return self.i >= len(self.tokens)

    def string(self) -> str | None:
        if not self.done() and self.tokens[self.i].token_type == TokenType.STRING:
            self.i += 1
            return self.tokens[self.i - 1].text
        return None

    def name(self) -> list[str]:
        """A dotted name (`quoted` parts allowed)."""
        parts = []
        while not self.done():
            tok = self.tokens[self.i]
            if tok.token_type in (TokenType.STRING, TokenType.DOT, TokenType.SEMICOLON):
                break
            if tok.token_type != TokenType.IDENTIFIER and tok.text.upper() in self.CLAUSES:
                break
            parts.append(tok.text)
            self.i += 1
            if self.i < len(self.tokens) and self.tokens[self.i].token_type == TokenType.DOT:
                self.i += 1
                continue
            break
        return parts

    def pattern(self) -> str | None:
        self.take("LIKE")
        return self.string()

    def end(self, what: str) -> None:
        if not self.done():
            raise syntax_error(self.tokens[self.i].text, f"Unexpected input in {what}.")


def _show(tokens: list[Token], session: Session, resolve: Resolver) -> Plan:
    t = _Tokens(tokens)
    if t.take("CATALOGS"):
        pattern = t.pattern()
        t.end("SHOW CATALOGS")
        return Plan("show_catalogs", args={"pattern": pattern})
    if t.take("SCHEMAS", "DATABASES"):
        catalog = session.catalog
        if t.take("FROM", "IN"):
            parts = t.name()
            if len(parts) != 1:
                raise syntax_error(".".join(parts), "SHOW SCHEMAS takes a catalog name.")
            catalog = resolve(parts[0])
        pattern = t.pattern()
        t.end("SHOW SCHEMAS")
        return Plan("show_schemas", refs=[Ref("browse_catalog", catalog)], args={"catalog": catalog,
                                                                                  "pattern": pattern})
    if t.take("TABLES", "VIEWS") or (t.take("TABLE") and t.take("EXTENDED")):
        word = t.tokens[t.i - 1].text.upper()
        kind = {"TABLES": "show_tables", "VIEWS": "show_views", "EXTENDED": "show_table_extended"}[word]
        catalog, schema = session.catalog, session.schema
        if t.take("FROM", "IN"):
            catalog, schema = _catalog_schema(t.name(), session, resolve)
        pattern = t.pattern()
        t.end("SHOW " + word)
        return Plan(kind, refs=[Ref("browse_schema", catalog, schema)],
                    args={"catalog": catalog, "schema": schema, "pattern": pattern})
    if t.take("COLUMNS"):
        if not t.take("FROM", "IN"):
            raise syntax_error(t.peek(), "Expected SHOW COLUMNS IN <table>.")
        parts = t.name()
        if t.take("FROM", "IN"):
            parts = t.name() + parts[-1:]
        t.end("SHOW COLUMNS")
        catalog, schema, table = _table_parts(parts, session, resolve)
        return Plan("show_columns", refs=[Ref("browse", catalog, schema, table)],
                    args={"catalog": catalog, "schema": schema, "table": table})
    if t.take("GRANTS", "GRANT"):
        principal = None
        if not t.take("ON"):
            principal = ".".join(t.name()) or None
            if not t.take("ON"):
                raise syntax_error(t.peek(), "Expected SHOW GRANTS [principal] ON <securable>.")
        securable = _securable(t, session, resolve)
        t.end("SHOW GRANTS")
        return Plan("show_grants", refs=[_securable_ref(securable, "browse")],
                    args={"principal": principal, "securable": securable})
    raise unsupported(f"SHOW {t.peek() or ''}".strip())


def _catalog_schema(parts: list[str], session: Session, resolve: Resolver) -> tuple[str, str]:
    if len(parts) == 1:
        return session.catalog, parts[0].lower()
    if len(parts) == 2:
        return resolve(parts[0]), parts[1].lower()
    raise syntax_error(".".join(parts), "Expected [catalog.]schema.")


def _table_parts(parts: list[str], session: Session, resolve: Resolver) -> tuple[str, str, str]:
    if len(parts) == 1:
        return session.catalog, session.schema, parts[0].lower()
    if len(parts) == 2:
        return session.catalog, parts[0].lower(), parts[1].lower()
    if len(parts) == 3:
        return resolve(parts[0]), parts[1].lower(), parts[2].lower()
    raise syntax_error(".".join(parts), "Expected [[catalog.]schema.]table.")


def _securable(t: _Tokens, session: Session, resolve: Resolver) -> tuple[str, str, str | None, str | None]:
    """(type, catalog, schema, table) after ``ON``: CATALOG c | SCHEMA [c.]s | [TABLE] [[c.]s.]t."""
    if t.take("CATALOG"):
        parts = t.name()
        if len(parts) != 1:
            raise syntax_error(".".join(parts), "Expected a catalog name.")
        return "catalog", resolve(parts[0]), None, None
    if t.take("SCHEMA", "DATABASE"):
        catalog, schema = _catalog_schema(t.name(), session, resolve)
        return "schema", catalog, schema, None
    t.take("TABLE", "VIEW")
    catalog, schema, table = _table_parts(t.name(), session, resolve)
    return "table", catalog, schema, table


def _securable_ref(securable, verb: str) -> Ref:
    kind, catalog, schema, table = securable
    action = {"catalog": "browse_catalog", "schema": "browse_schema", "table": "browse"}[kind]
    return Ref(action if verb == "browse" else verb, catalog, schema, table)


def _describe_catalog(tokens: list[Token], resolve: Resolver) -> Plan:
    t = _Tokens(tokens)
    extended = t.take("EXTENDED")
    parts = t.name()
    t.end("DESCRIBE CATALOG")
    if len(parts) != 1:
        raise syntax_error(".".join(parts) or None, "Expected DESCRIBE CATALOG <name>.")
    catalog = resolve(parts[0])
    return Plan("describe_catalog", refs=[Ref("browse_catalog", catalog)],
                args={"catalog": catalog, "extended": extended})


def _create_catalog(tokens: list[Token]) -> Plan:
    t = _Tokens(tokens)
    if_not_exists = t.take("IF") and t.take("NOT") and t.take("EXISTS")
    parts = t.name()
    if len(parts) != 1:
        raise syntax_error(".".join(parts) or None, "Expected CREATE CATALOG [IF NOT EXISTS] <name>.")
    comment = None
    while not t.done():
        if t.take("COMMENT"):
            comment = t.string()
        else:
            t.i += 1  # MANAGED LOCATION, OPTIONS, ...: accepted and ignored
    return Plan("create_catalog", args={"name": parts[0].lower(), "if_not_exists": if_not_exists,
                                        "comment": comment})


def _grant(verb: str, tokens: list[Token], session: Session, resolve: Resolver) -> Plan:
    """GRANT privilege[, ...] ON securable TO principal · REVOKE ... FROM principal."""
    t = _Tokens(tokens)
    privileges, words = [], []
    while not t.done() and t.peek() != "ON":
        tok = t.tokens[t.i]
        t.i += 1
        if tok.token_type == TokenType.COMMA:
            privileges.append("_".join(words).upper())
            words = []
        else:
            words.append(tok.text)
    if words:
        privileges.append("_".join(words).upper())
    if not privileges or not t.take("ON"):
        raise syntax_error(t.peek(), f"Expected {verb.upper()} <privileges> ON <securable>.")
    securable = _securable(t, session, resolve)
    if not t.take("TO" if verb == "grant" else "FROM"):
        raise syntax_error(t.peek(), f"Expected {'TO' if verb == 'grant' else 'FROM'} <principal>.")
    principal = ".".join(t.name())
    t.end(verb.upper())
    if not principal:
        raise syntax_error(None, "A principal is required.")
    return Plan(verb, refs=[_securable_ref(securable, "browse")],
                args={"privileges": privileges, "securable": securable, "principal": principal})
