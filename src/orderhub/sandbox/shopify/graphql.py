"""The GraphQL Admin API of the emulator: `POST /admin/api/{version}/graphql.json`.

The body is `{"query", "variables", "operationName"}` (or, with `Content-Type:
application/graphql`, the query itself). graphql-core parses, validates and runs it
against the small 2025-07 schema below. Every GraphQL answer is HTTP 200 with `data`
and/or `errors` and `extensions.cost`; a syntax or validation error is
`{"message", "locations", "extensions": {"code"}}` with graphql-ruby's codes
(`undefinedField`, `missingRequiredArguments`, ...). A body that is not JSON or has no
query answers 400 `{"errors": {"query": "Required parameter missing or invalid"}}`.

Cost, kept simple: a mutation costs 10 per root field, whatever it selects; a query
costs 1 per selected field that returns an object (scalars and enums are free). The
bucket must hold the requested cost before the call runs; nothing is refunded, so
`actualQueryCost` equals it, except that a throttled call reports null and changes
nothing. A call that cannot run (syntax, validation or variable errors) costs nothing;
one costing more than the whole bucket is refused as MAX_COST_EXCEEDED.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    build_schema,
    execute_sync,
    get_named_type,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values
from graphql.utilities import get_operation_ast
from graphql.validation import (
    ASTValidationRule,
    FieldsOnCorrectTypeRule,
    KnownArgumentNamesRule,
    KnownTypeNamesRule,
    NoUndefinedVariablesRule,
    NoUnusedVariablesRule,
    ProvidedRequiredArgumentsRule,
    ScalarLeafsRule,
    ValuesOfCorrectTypeRule,
    VariablesInAllowedPositionRule,
    specified_rules,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from orderhub.sandbox.shopify.bucket import Charge, CostBucket
from orderhub.sandbox.shopify.common import Json, gid, parse_gid
from orderhub.sandbox.shopify.quantities import (
    ERROR_CODES,
    item_node,
    location_node,
    set_quantities,
)
from orderhub.sandbox.shopify.state import ShopState

__all__ = ["MAX_INPUT_SIZE", "MUTATION_COST", "SCHEMA", "GraphqlApi", "requested_cost"]

log = logging.getLogger(__name__)
MUTATION_COST = 10
MAX_INPUT_SIZE = 250  # every input array of every Shopify API
NO_QUERY = {"query": "Required parameter missing or invalid"}
INTERNAL = "Internal error. Looks like something went wrong on our end."
RATE_LIMITS = "https://shopify.dev/api/usage/rate-limits"

SCHEMA = build_schema(
    """
    schema { query: QueryRoot mutation: Mutation }

    scalar DateTime

    type QueryRoot {
      shop: Shop!
      location(id: ID!): Location
      inventoryItem(id: ID!): InventoryItem
    }
    type Shop { id: ID! name: String! }
    type Location { id: ID! name: String! }
    type InventoryItem { id: ID! sku: String }

    type Mutation {
      inventorySetQuantities(input: InventorySetQuantitiesInput!): InventorySetQuantitiesPayload
    }
    input InventorySetQuantitiesInput {
      name: String!
      reason: String!
      referenceDocumentUri: String
      ignoreCompareQuantity: Boolean = false
      quantities: [InventoryQuantityInput!]!
    }
    input InventoryQuantityInput {
      inventoryItemId: ID!
      locationId: ID!
      quantity: Int!
      compareQuantity: Int
    }
    type InventorySetQuantitiesPayload {
      inventoryAdjustmentGroup: InventoryAdjustmentGroup
      userErrors: [InventorySetQuantitiesUserError!]!
    }
    type InventoryAdjustmentGroup {
      id: ID!
      createdAt: DateTime!
      reason: String!
      referenceDocumentUri: String
      changes(inventoryItemIds: [ID!], locationIds: [ID!], quantityNames: [String!]):
        [InventoryChange!]!
    }
    type InventoryChange {
      name: String!
      delta: Int!
      quantityAfterChange: Int
      item: InventoryItem
      location: Location
    }
    type InventorySetQuantitiesUserError {
      code: InventorySetQuantitiesUserErrorCode
      field: [String!]
      message: String!
    }
    """
    + "enum InventorySetQuantitiesUserErrorCode { "
    + " ".join(sorted(ERROR_CODES))
    + " }"
)

# graphql-ruby's `extensions.code` for the rules Shopify's answers name most often.
RULE_CODES: dict[type[ASTValidationRule], str] = {
    FieldsOnCorrectTypeRule: "undefinedField",
    KnownArgumentNamesRule: "argumentNotAccepted",
    KnownTypeNamesRule: "undefinedType",
    NoUndefinedVariablesRule: "variableNotDefined",
    NoUnusedVariablesRule: "variableNotUsed",
    ProvidedRequiredArgumentsRule: "missingRequiredArguments",
    ScalarLeafsRule: "selectionMismatch",
    ValuesOfCorrectTypeRule: "argumentLiteralsIncompatible",
    VariablesInAllowedPositionRule: "variableMismatch",
}


def _formatted(error: GraphQLError, code: str) -> Json:
    """A GraphQL error as Shopify words it: message, locations, path, extensions.code."""
    shown: Json = {"message": error.message}
    if error.locations:
        shown["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        shown["path"] = list(error.path)
    shown["extensions"] = {"code": code, **(error.extensions or {})}
    return shown


def _validation_errors(document: DocumentNode) -> list[Json]:
    """Every validation error, each named by the rule that found it."""
    if not validate(SCHEMA, document):
        return []
    return [
        _formatted(error, RULE_CODES.get(rule, "validationFailed"))
        for rule in specified_rules
        for error in validate(SCHEMA, document, [rule])
    ]


def _fields(
    selections: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> list[FieldNode]:
    """The fields of a selection set, fragments spread in (the schema has no abstract types)."""
    found: list[FieldNode] = []
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            found.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            found.extend(_fields(selection.selection_set, fragments))
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                found.extend(_fields(fragment.selection_set, fragments))
    return found


def _objects_cost(
    parent: GraphQLObjectType,
    selections: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode],
) -> int:
    total = 0
    for node in _fields(selections, fragments):
        field = parent.fields.get(node.name.value)
        named = get_named_type(field.type) if field is not None else None
        if isinstance(named, GraphQLObjectType):
            total += 1
            if node.selection_set is not None:
                total += _objects_cost(named, node.selection_set, fragments)
    return total


def requested_cost(document: DocumentNode, operation: OperationDefinitionNode) -> int:
    """The points a valid operation asks for: `mutation { inventorySetQuantities(...) {
    userErrors { field } } }` -> 10; `{ shop { id } location(id: ...) { name } }` -> 2."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    roots = _fields(operation.selection_set, fragments)
    if operation.operation == OperationType.MUTATION:
        return MUTATION_COST * len(roots)
    query_type = SCHEMA.query_type
    assert query_type is not None
    return _objects_cost(query_type, operation.selection_set, fragments)


def _cost(charge: Charge, actual: int | None) -> Json:
    return {
        "cost": {
            "requestedQueryCost": charge.requested,
            "actualQueryCost": actual,
            "throttleStatus": charge.throttle_status(),
        }
    }


class GraphqlApi:
    """The graphql.json endpoint over one shop's state, paid for from its cost bucket."""

    def __init__(self, state: ShopState, bucket: CostBucket) -> None:
        self.state = state
        self.bucket = bucket

    async def answer(self, request: Request) -> Response:
        """One POST to graphql.json (the caller has checked the access token)."""
        raw = await request.body()
        if request.headers.get("content-type", "").startswith("application/graphql"):
            body: Any = {"query": raw.decode("utf-8", "replace")}
        else:
            try:
                body = json.loads(raw or b"null")
            except (ValueError, UnicodeDecodeError):
                body = None
        query = body.get("query") if isinstance(body, dict) else None
        variables = body.get("variables") if isinstance(body, dict) else None
        if not isinstance(query, str) or not query.strip():
            return JSONResponse({"errors": NO_QUERY}, status_code=400)
        if variables is not None and not isinstance(variables, dict):
            return JSONResponse({"errors": NO_QUERY}, status_code=400)
        name = body.get("operationName")
        return JSONResponse(self.run(query, variables or {}, name if name else None))

    def run(self, query: str, variables: Json, operation_name: str | None) -> Json:
        """The answer to one GraphQL request, as Shopify would give it."""
        try:
            document = parse(query)
        except GraphQLError as exc:
            return {"errors": [_formatted(exc, "PARSE_ERROR")], "extensions": self._free()}
        invalid = _validation_errors(document)
        if invalid:
            return {"errors": invalid, "extensions": self._free()}
        operation = get_operation_ast(document, operation_name)
        if operation is not None:
            coerced = get_variable_values(SCHEMA, operation.variable_definitions or (), variables)
            if isinstance(coerced, list):
                errors = [_formatted(e, "INVALID_VARIABLE") for e in coerced]
                return {"errors": errors, "extensions": self._free()}
        cost = requested_cost(document, operation) if operation is not None else 0
        if cost > self.bucket.size:
            message = (
                f"Query cost is {cost}, which exceeds the single query max cost limit "
                f"({self.bucket.size})."
            )
            error = {"message": message, "extensions": {"code": "MAX_COST_EXCEEDED"}}
            return {"errors": [error], "extensions": self._free()}
        charge = self.bucket.charge(cost)
        if not charge.paid:
            throttled = {
                "message": "Throttled",
                "extensions": {"code": "THROTTLED", "documentation": RATE_LIMITS},
            }
            return {"errors": [throttled], "extensions": _cost(charge, None)}
        result = execute_sync(
            SCHEMA,
            document,
            root_value=self._root(),
            variable_values=variables,
            operation_name=operation_name,
        )
        answer: Json = {}
        if result.errors:
            answer["errors"] = [self._execution_error(e) for e in result.errors]
        if result.data is not None or not result.errors:
            answer["data"] = result.data
        answer["extensions"] = _cost(charge, cost)
        return answer

    def _free(self) -> Json:
        """The cost extension of a call that never ran: nothing taken from the bucket."""
        return _cost(self.bucket.charge(0), 0)

    @staticmethod
    def _execution_error(error: GraphQLError) -> Json:
        original = error.original_error
        if original is not None and not isinstance(original, GraphQLError):
            log.error("GraphQL resolver failed", exc_info=original)
            return {"message": INTERNAL, "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
        code = (error.extensions or {}).get("code")
        return _formatted(error, str(code) if code else "INVALID_VARIABLE")

    def _root(self) -> Json:
        """The root fields of QueryRoot and Mutation over the shop's state."""
        state = self.state
        catalog = state.catalog

        def shop(info: Any) -> Json:
            return {"id": gid("Shop", state.shop_id), "name": state.shop_domain.split(".")[0]}

        def location(info: Any, id: str) -> Json | None:
            found = parse_gid(id, "Location")
            with state.lock:
                return None if found is None else location_node(catalog, found)

        def inventory_item(info: Any, id: str) -> Json | None:
            found = parse_gid(id, "InventoryItem")
            with state.lock:
                return None if found is None else item_node(catalog, found)

        def inventory_set_quantities(info: Any, input: Json) -> Json:
            size = len(input["quantities"])
            if size > MAX_INPUT_SIZE:
                raise GraphQLError(
                    f"The input array size of {size} is greater than the maximum allowed "
                    f"of {MAX_INPUT_SIZE}.",
                    extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"},
                )
            return set_quantities(state, input)

        return {
            "shop": shop,
            "location": location,
            "inventoryItem": inventory_item,
            "inventorySetQuantities": inventory_set_quantities,
        }
