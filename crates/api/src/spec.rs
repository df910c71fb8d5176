//! Finishing the OpenAPI document that utoipa derives from the handlers, so that the common
//! generators (openapi-python-client, @hey-api/openapi-ts, openapi-typescript) turn it into
//! strict clients. Each rule here is one place instead of an annotation repeated on every
//! handler, and applies to routes added later too:
//!
//! - error responses every operation can meet, declared with the problem schema
//!   ([`standard_errors`]), and a description on every response;
//! - the `oauth2` (client credentials) and admin-key security schemes;
//! - stable camelCase operation ids;
//! - output copies (`*Out`) of input schemas reused in responses, with every field required,
//!   since responses always carry every field;
//! - merge-patch schemas (`*Patch`) for `application/merge-patch+json` bodies;
//! - discriminated `oneOf`s with named variants for internally tagged enums;
//! - parameters that are never `null` on the wire.
//!
//! The document is edited as JSON, so every rule sees the whole document.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

/// The security scheme of tenant tokens (OAuth2 client credentials).
pub const OAUTH2: &str = "oauth2";
/// The security scheme of the platform admin key (HTTP bearer).
pub const ADMIN_KEY: &str = "adminKey";
/// The name handlers use for tenant tokens in `security(...)`; renamed to [`OAUTH2`].
const HANDLER_BEARER: &str = "bearer";
/// The name handlers use for the admin key in `security(...)`; renamed to [`ADMIN_KEY`].
const HANDLER_ADMIN: &str = "admin_key";

/// Operation ids that read better than the handler's name turned into camelCase.
const OPERATION_IDS: &[(&str, &str)] = &[
    ("healthz", "getHealth"),
    ("readyz", "getReadiness"),
    ("issue_token", "issueToken"),
    ("create_client", "createApiClient"),
    ("list_clients", "listApiClients"),
    ("revoke_client", "revokeApiClient"),
    ("preview_unsaved", "previewDraftIntegration"),
    ("create_bindings", "createEventBindings"),
    ("list_bindings", "listEventBindings"),
    ("delete_binding", "deleteEventBinding"),
    ("list_logs", "listIntegrationLogs"),
    ("get_delivery_with_attempts", "getDelivery"),
];

/// Applies every rule of this module to `doc`, giving the document as JSON (utoipa's types
/// cannot hold every schema these rules write, such as a bare `{}` for any JSON value).
pub fn finish(doc: &utoipa::openapi::OpenApi) -> Value {
    let mut value = serde_json::to_value(doc).expect("an OpenAPI document serializes");
    finish_json(&mut value);
    value
}

/// Names for enum values that are not identifiers (`2xx`), as generators name members
/// (`x-enum-varnames`, read by openapi-python-client and hey-api) instead of `VALUE_1`.
const ENUM_NAMES: &[(&str, &[&str])] = &[
    (
        "StatusClass",
        &[
            "INFORMATIONAL",
            "SUCCESS",
            "REDIRECTION",
            "CLIENT_ERROR",
            "SERVER_ERROR",
        ],
    ),
    (
        "Permission",
        &[
            "INTEGRATION_VIEW",
            "INTEGRATION_EDIT",
            "SECRET_VIEW",
            "SECRET_EDIT",
            "EVENT_PUBLISH",
            "LOG_VIEW",
            "DEADLETTER_EDIT",
        ],
    ),
];

fn enum_names(doc: &mut Value) {
    let schemas = schemas(doc);
    for (name, names) in ENUM_NAMES {
        if let Some(schema) = schemas.get_mut(*name) {
            let values = schema
                .get("enum")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            assert_eq!(
                values,
                names.len(),
                "x-enum-varnames of {name} name every value"
            );
            schema["x-enum-varnames"] = json!(names);
        }
    }
}

fn finish_json(doc: &mut Value) {
    security_schemes(doc);
    enum_names(doc);
    discriminate_tagged_unions(doc);
    merge_patch_schemas(doc);
    output_schemas(doc);
    for_each_operation(doc, |_, _, op| {
        rename_operation(op);
        rename_security(op);
        plain_parameters(op);
        standard_errors(op);
        describe_responses(op);
    });
}

fn for_each_operation(doc: &mut Value, mut f: impl FnMut(&str, &str, &mut Map<String, Value>)) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            if let Some(op) = op.as_object_mut() {
                f(path, method, op);
            }
        }
    }
}

fn schemas(doc: &mut Value) -> &mut Map<String, Value> {
    let components = doc
        .as_object_mut()
        .expect("the document is an object")
        .entry("components")
        .or_insert_with(|| json!({}));
    components
        .as_object_mut()
        .expect("components is an object")
        .entry("schemas")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("schemas is an object")
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn ref_name(schema: &Value) -> Option<&str> {
    schema
        .get("$ref")?
        .as_str()?
        .strip_prefix("#/components/schemas/")
}

// ---------------------------------------------------------------------------------------------
// Security

fn security_schemes(doc: &mut Value) {
    let scopes: Map<String, Value> = ricochet_domain::Permission::ALL
        .iter()
        .map(|p| {
            (
                p.to_string(),
                Value::String(scope_description(*p).to_owned()),
            )
        })
        .collect();
    let components = doc
        .as_object_mut()
        .expect("the document is an object")
        .entry("components")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("components is an object");
    components.insert(
        "securitySchemes".into(),
        json!({
            OAUTH2: {
                "type": "oauth2",
                "description": "A tenant's API client exchanges its id and secret for a token at \
                    POST /oauth/token (client credentials); the token is sent as \
                    `Authorization: Bearer <token>`. Scopes are permissions; ask for none to get \
                    every permission of the client.",
                "flows": {
                    "clientCredentials": { "tokenUrl": "/oauth/token", "scopes": scopes }
                }
            },
            ADMIN_KEY: {
                "type": "http",
                "scheme": "bearer",
                "description": "The platform admin key (RICOCHET_ADMIN_KEY), sent as \
                    `Authorization: Bearer <key>`."
            }
        }),
    );
}

fn scope_description(permission: ricochet_domain::Permission) -> &'static str {
    use ricochet_domain::Permission::*;
    match permission {
        IntegrationView => "Read integrations and their event bindings",
        IntegrationEdit => "Create, change and delete integrations and their event bindings",
        SecretView => "Read secrets' metadata (never their values)",
        SecretEdit => "Create, rotate and delete secrets",
        EventPublish => "Publish events",
        LogView => "Read delivery logs and attempts",
        DeadletterEdit => "Replay and purge dead letters",
    }
}

fn rename_security(op: &mut Map<String, Value>) {
    let Some(requirements) = op.get_mut("security").and_then(Value::as_array_mut) else {
        return;
    };
    for requirement in requirements {
        let Some(requirement) = requirement.as_object_mut() else {
            continue;
        };
        for (from, to) in [(HANDLER_BEARER, OAUTH2), (HANDLER_ADMIN, ADMIN_KEY)] {
            if let Some(scopes) = requirement.remove(from) {
                requirement.insert(to.into(), scopes);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Operations

fn rename_operation(op: &mut Map<String, Value>) {
    let Some(id) = op.get("operationId").and_then(Value::as_str) else {
        return;
    };
    let renamed = OPERATION_IDS
        .iter()
        .find(|(from, _)| *from == id)
        .map(|(_, to)| (*to).to_owned())
        .unwrap_or_else(|| camel_case(id));
    op.insert("operationId".into(), Value::String(renamed));
}

/// `list_dead_letters` → `listDeadLetters`.
pub fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A parameter is a string on the wire, never `null`: an absent optional parameter is simply
/// not sent. `Option<T>` makes utoipa write `T | null`, which generators turn into clients that
/// send `None`.
fn plain_parameters(op: &mut Map<String, Value>) {
    let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
        return;
    };
    for param in params {
        if let Some(schema) = param.get_mut("schema") {
            strip_null(schema);
        }
    }
}

fn strip_null(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if let Some(Value::Array(types)) = object.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let only = types.remove(0);
            object.insert("type".into(), only);
        }
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(Value::Array(options)) = object.get_mut(key) {
            options.retain(|o| o.get("type") != Some(&json!("null")));
            if options.len() == 1 {
                let only = options.remove(0);
                object.remove(key);
                if let Value::Object(only) = only {
                    object.extend(only);
                }
            }
        }
    }
}

fn has_param_in(op: &Map<String, Value>, location: &str) -> bool {
    op.get("parameters")
        .and_then(Value::as_array)
        .is_some_and(|params| params.iter().any(|p| p["in"] == location))
}

/// The error statuses every operation can meet, declared with the problem schema unless the
/// handler declared them itself (with a more specific description or body):
/// - any secured operation: 401 (no, invalid or expired credential) and 403 (a missing
///   permission, or a tenant token on an admin route);
/// - a JSON request body: 400 (malformed), 413 (too large), 415 (not JSON), 422 (invalid fields);
/// - query parameters: 400 (unknown, malformed or out-of-range parameter);
/// - path parameters: 400 (a malformed id) and 404 (no such resource in the tenant).
fn standard_errors(op: &mut Map<String, Value>) {
    let secured = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter()
                .any(|r| r.as_object().is_some_and(|r| !r.is_empty()))
        });
    let json_body = op
        .get("requestBody")
        .and_then(|b| b.get("content"))
        .and_then(Value::as_object)
        .is_some_and(|c| {
            c.keys()
                .any(|k| k == "application/json" || k.ends_with("+json"))
        });
    let mut statuses: Vec<(u16, &str)> = Vec::new();
    if secured {
        statuses.push((
            401,
            "No credential, or an invalid or expired one (`WWW-Authenticate` says which)",
        ));
        statuses.push((403, "The credential lacks the permission this needs"));
    }
    if json_body {
        statuses.push((400, "The body is not well-formed JSON"));
        statuses.push((
            413,
            "The body is larger than the server accepts (1 MiB; events: --event-body-limit)",
        ));
        statuses.push((415, "The body is not declared as JSON (`Content-Type`)"));
        statuses.push((422, "Invalid fields, each named in `errors`"));
    }
    if has_param_in(op, "query") {
        statuses.push((
            400,
            "An unknown, malformed or out-of-range query parameter (named in `detail`)",
        ));
    }
    if has_param_in(op, "path") {
        statuses.push((400, "A malformed path parameter (named in `detail`)"));
        statuses.push((404, "No such resource in the tenant"));
    }
    let responses = op
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("responses is an object");
    for (status, description) in statuses {
        responses
            .entry(status.to_string())
            .or_insert_with(|| problem_response(description));
    }
}

/// A response carrying the problem schema as `application/problem+json`.
pub fn problem_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/problem+json": { "schema": schema_ref("Problem") } }
    })
}

/// OpenAPI 3.1 requires a description on every response; a handler that gives none gets the
/// status code's reason phrase.
fn describe_responses(op: &mut Map<String, Value>) {
    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
        return;
    };
    for (status, response) in responses.iter_mut() {
        let Some(response) = response.as_object_mut() else {
            continue;
        };
        let missing = response
            .get("description")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty);
        if missing {
            let reason = status
                .parse::<u16>()
                .ok()
                .and_then(|code| StatusCode::from_u16(code).ok())
                .and_then(|code| code.canonical_reason())
                .unwrap_or("Response");
            response.insert("description".into(), Value::String(reason.into()));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Schemas

/// utoipa writes an internally tagged enum (`#[serde(tag = "type")]`, or `"outcome"`) as a `oneOf` of inline
/// objects. Each becomes a named schema (`<Variant><Enum>`, e.g. `FieldMappingTransformation`)
/// and the `oneOf` gets a discriminator, so generators make a discriminated union of named types
/// instead of `TransformationType2`.
/// The tag properties of Ricochet's internally tagged enums (`#[serde(tag = "...")]`).
const TAG_PROPERTIES: &[&str] = &["type", "outcome"];

fn discriminate_tagged_unions(doc: &mut Value) {
    let schemas = schemas(doc);
    let names: Vec<String> = schemas.keys().cloned().collect();
    for name in names {
        let Some(variants) = schemas[&name].get("oneOf").and_then(Value::as_array) else {
            continue;
        };
        let Some((property, tags)) = TAG_PROPERTIES.iter().find_map(|property| {
            variants
                .iter()
                .map(|v| single_tag(v, property))
                .collect::<Option<Vec<String>>>()
                .map(|tags| (*property, tags))
        }) else {
            continue;
        };
        let variants = variants.clone();
        let mut refs = Vec::new();
        let mut mapping = Map::new();
        for (variant, tag) in variants.into_iter().zip(tags) {
            let variant_name = format!("{}{name}", pascal_case(&tag));
            mapping.insert(
                tag,
                Value::String(format!("#/components/schemas/{variant_name}")),
            );
            refs.push(schema_ref(&variant_name));
            let mut variant = variant;
            // Ricochet's tagged enums are `deny_unknown_fields`, which holds for every variant.
            variant["additionalProperties"] = Value::Bool(false);
            schemas.insert(variant_name, variant);
        }
        let union = schemas[&name]
            .as_object_mut()
            .expect("a oneOf schema is an object");
        union.insert("oneOf".into(), Value::Array(refs));
        union.insert(
            "discriminator".into(),
            json!({ "propertyName": property, "mapping": mapping }),
        );
    }
}

/// The one value the inline object `variant` allows for `property`, if it is such an object.
fn single_tag(variant: &Value, property: &str) -> Option<String> {
    if variant.get("$ref").is_some() {
        return None;
    }
    let tag = variant.get("properties")?.get(property)?;
    let values = tag.get("enum")?.as_array()?;
    match values.as_slice() {
        [Value::String(one)] => Some(one.clone()),
        _ => None,
    }
}

fn pascal_case(camel: &str) -> String {
    let mut chars = camel.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Every `application/merge-patch+json` body whose schema names an input schema (`FooIn`) gets
/// a `FooPatch` schema instead: every field optional and nullable (`null` resets it to its
/// default), nested objects patched the same way, arrays replaced whole, unknown fields refused.
fn merge_patch_schemas(doc: &mut Value) {
    let mut wanted = Vec::new();
    for_each_operation(doc, |_, _, op| {
        if let Some(schema) = op
            .get_mut("requestBody")
            .and_then(|b| b.get_mut("content"))
            .and_then(|c| c.get_mut("application/merge-patch+json"))
            .and_then(|m| m.get_mut("schema"))
            && let Some(name) = ref_name(schema).map(str::to_owned)
        {
            *schema = schema_ref(&patch_name(&name));
            wanted.push(name);
        }
    });
    let schemas = schemas(doc);
    for name in wanted {
        make_patch_schema(schemas, &name);
    }
}

fn patch_name(name: &str) -> String {
    format!("{}Patch", name.strip_suffix("In").unwrap_or(name))
}

fn make_patch_schema(schemas: &mut Map<String, Value>, name: &str) {
    let patch = patch_name(name);
    if schemas.contains_key(&patch) {
        return;
    }
    let Some(source) = schemas.get(name).cloned() else {
        return;
    };
    // Reserve the name first, so that a recursive schema stops here.
    schemas.insert(patch.clone(), json!({}));
    let mut out = source;
    if let Some(object) = out.as_object_mut() {
        object.remove("required");
        object.remove("description");
        object.insert(
            "description".into(),
            Value::String(format!(
                "A JSON merge patch (RFC 7386) of {name}: fields present replace, `null` \
                 resets a field to its default, fields left out stay."
            )),
        );
        if let Some(Value::Object(properties)) = object.get_mut("properties") {
            for property in properties.values_mut() {
                let patched = patch_property(schemas, property);
                *property = nullable(patched);
            }
        }
    }
    schemas.insert(patch, out);
}

fn patch_property(schemas: &mut Map<String, Value>, property: &Value) -> Value {
    if let Some(target) = ref_name(property).map(str::to_owned) {
        let is_object = schemas
            .get(&target)
            .is_some_and(|s| s.get("properties").is_some());
        if is_object {
            make_patch_schema(schemas, &target);
            let mut patched = schema_ref(&patch_name(&target));
            if let Some(description) = property.get("description") {
                patched["description"] = description.clone();
            }
            return patched;
        }
        return property.clone();
    }
    let mut property = property.clone();
    // A map merges key by key, so a key can be removed with `null`.
    if property.get("type") == Some(&json!("object"))
        && let Some(values) = property.get_mut("additionalProperties")
        && values.is_object()
    {
        *values = nullable(values.clone());
    }
    property.as_object_mut().map(|p| p.remove("default"));
    property
}

/// `schema` or `null`.
fn nullable(schema: Value) -> Value {
    let Value::Object(mut object) = schema else {
        return schema;
    };
    let enumerated = object.contains_key("enum") || object.contains_key("const");
    match object.get_mut("type") {
        Some(Value::String(t)) if !enumerated => {
            let t = t.clone();
            object.insert("type".into(), json!([t, "null"]));
            Value::Object(object)
        }
        Some(Value::Array(types)) if !enumerated => {
            if !types.iter().any(|t| t == "null") {
                types.push(json!("null"));
            }
            Value::Object(object)
        }
        _ => {
            let description = object.remove("description");
            let mut wrapped = json!({ "oneOf": [{ "type": "null" }, Value::Object(object)] });
            if let Some(description) = description {
                wrapped["description"] = description;
            }
            wrapped
        }
    }
}

/// Responses always carry every field, but an input schema reused in a response leaves the
/// fields that have defaults optional, so clients must check each for absence. Every schema
/// reached from both a request and a response, and not already requiring all its fields (or
/// reaching such a schema), gets an output copy named `<Name>Out` with every field required,
/// and the schemas reached from responses use it.
fn output_schemas(doc: &mut Value) {
    let mut request_roots = BTreeSet::new();
    let mut response_roots = BTreeSet::new();
    for_each_operation(doc, |_, _, op| {
        if let Some(body) = op.get("requestBody") {
            collect_refs(body, &mut request_roots);
        }
        if let Some(responses) = op.get("responses") {
            collect_refs(responses, &mut response_roots);
        }
    });
    let schemas = schemas(doc);
    let in_requests = reachable(schemas, request_roots);
    let in_responses = reachable(schemas, response_roots.clone());
    let shared: BTreeSet<String> = in_requests.intersection(&in_responses).cloned().collect();

    // Which shared schemas need an output copy: those with optional fields, then those that
    // refer to one that does.
    let mut needs: BTreeSet<String> = shared
        .iter()
        .filter(|name| has_optional_fields(&schemas[name.as_str()]))
        .cloned()
        .collect();
    loop {
        let more: Vec<String> = shared
            .iter()
            .filter(|name| !needs.contains(*name))
            .filter(|name| {
                let mut refs = BTreeSet::new();
                collect_refs(&schemas[name.as_str()], &mut refs);
                refs.iter().any(|r| needs.contains(r))
            })
            .cloned()
            .collect();
        if more.is_empty() {
            break;
        }
        needs.extend(more);
    }
    let renames: BTreeMap<String, String> = needs
        .iter()
        .map(|name| (name.clone(), out_name(name)))
        .collect();
    for (name, out) in &renames {
        let copy = schemas[name.as_str()].clone();
        schemas.insert(out.clone(), copy);
    }
    // Point every schema only responses reach, and the copies, at the copies; and require
    // every field of them, as responses always carry every field (`null` when empty).
    let response_only: Vec<String> = in_responses
        .difference(&in_requests)
        .cloned()
        .chain(renames.values().cloned())
        .collect();
    for name in response_only {
        if let Some(schema) = schemas.get_mut(&name) {
            rewrite_refs(schema, &renames);
            require_all_fields(&name, schema);
        }
    }
    for_each_operation(doc, |_, _, op| {
        if let Some(responses) = op.get_mut("responses") {
            rewrite_refs(responses, &renames);
        }
    });
}

/// Response fields that are left out rather than sent as `null` (`skip_serializing_if`).
const OMITTED_IN_RESPONSES: &[(&str, &[&str])] = &[("Problem", &["detail", "errors"])];

fn require_all_fields(name: &str, schema: &mut Value) {
    let omitted = OMITTED_IN_RESPONSES
        .iter()
        .find(|(schema, _)| *schema == name)
        .map(|(_, fields)| *fields)
        .unwrap_or_default();
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    let Some(Value::Object(properties)) = object.get("properties") else {
        return;
    };
    let required: Vec<Value> = properties
        .keys()
        .filter(|k| !omitted.contains(&k.as_str()))
        .cloned()
        .map(Value::String)
        .collect();
    object.insert("required".into(), Value::Array(required));
}

fn out_name(name: &str) -> String {
    format!("{}Out", name.strip_suffix("In").unwrap_or(name))
}

fn has_optional_fields(schema: &Value) -> bool {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return false;
    };
    let required: BTreeSet<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    properties.keys().any(|k| !required.contains(k.as_str()))
}

fn collect_refs(value: &Value, into: &mut BTreeSet<String>) {
    match value {
        Value::Object(object) => {
            if let Some(name) = ref_name(value) {
                into.insert(name.to_owned());
            }
            for v in object.values() {
                collect_refs(v, into);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, into)),
        _ => {}
    }
}

fn reachable(schemas: &Map<String, Value>, roots: BTreeSet<String>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<String> = roots.into_iter().collect();
    while let Some(name) = todo.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(schema) = schemas.get(&name) {
            let mut refs = BTreeSet::new();
            collect_refs(schema, &mut refs);
            todo.extend(refs.into_iter().filter(|r| !seen.contains(r)));
        }
    }
    seen
}

fn rewrite_refs(value: &mut Value, renames: &BTreeMap<String, String>) {
    match value {
        Value::Object(object) => {
            let target = object
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                .and_then(|name| renames.get(name));
            if let Some(target) = target {
                object.insert(
                    "$ref".into(),
                    Value::String(format!("#/components/schemas/{target}")),
                );
            }
            for v in object.values_mut() {
                rewrite_refs(v, renames);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite_refs(v, renames)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handler_names_become_camel_case_operation_ids() {
        assert_eq!(camel_case("list_dead_letters"), "listDeadLetters");
        assert_eq!(camel_case("get"), "get");
    }

    #[test]
    fn a_nullable_enum_reference_becomes_a_one_of_with_null() {
        assert_eq!(
            nullable(schema_ref("HttpMethod")),
            json!({"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/HttpMethod"}]})
        );
        assert_eq!(
            nullable(json!({"type": "integer"})),
            json!({"type": ["integer", "null"]})
        );
    }
}
