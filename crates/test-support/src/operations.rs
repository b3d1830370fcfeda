//! Every operation a service's served contract declares, ready to call: path parameters filled
//! with values that name nothing (a fresh UUID, 1, `x`). Authentication and tenancy tests sweep
//! these, so an operation added later is covered without anyone remembering to list it.

/// One operation of a contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// HTTP method, upper case.
    pub method: String,
    /// The path template (`/quotes/{id}`).
    pub template: String,
    /// The path with every parameter filled.
    pub path: String,
    /// The contract's `operationId`.
    pub operation_id: String,
    /// Whether the operation takes a request body.
    pub has_body: bool,
}

/// The operations of an OpenAPI 3.1 document (as JSON), in document order, skipping the paths
/// `open` names (operational endpoints that need no token).
pub fn operations(document: &serde_json::Value) -> Vec<Operation> {
    let mut found = Vec::new();
    let Some(paths) = document["paths"].as_object() else {
        return found;
    };
    for (template, item) in paths {
        let Some(methods) = item.as_object() else {
            continue;
        };
        for (method, operation) in methods {
            if !matches!(method.as_str(), "get" | "post" | "put" | "patch" | "delete") {
                continue;
            }
            let parameters: Vec<&serde_json::Value> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(item["parameters"].as_array().into_iter().flatten())
                .collect();
            let mut path = template.clone();
            for parameter in parameters.iter().filter(|p| p["in"] == "path") {
                let name = parameter["name"].as_str().unwrap_or_default();
                let schema = &parameter["schema"];
                let value = match (schema["type"].as_str(), schema["format"].as_str()) {
                    (_, Some("uuid")) => uuid::Uuid::now_v7().to_string(),
                    (Some("integer"), _) => "1".to_owned(),
                    _ => "x".to_owned(),
                };
                path = path.replace(&format!("{{{name}}}"), &value);
            }
            found.push(Operation {
                method: method.to_uppercase(),
                template: template.clone(),
                path,
                operation_id: operation["operationId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                has_body: !operation["requestBody"].is_null(),
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_filled_from_their_schemas() {
        let document = serde_json::json!({"paths": {
            "/quotes/{id}/items/{item_id}": {"post": {
                "operationId": "override_price",
                "parameters": [
                    {"in": "path", "name": "id", "schema": {"type": "string", "format": "uuid"}},
                    {"in": "path", "name": "item_id", "schema": {"type": "string"}},
                    {"in": "header", "name": "If-Match", "schema": {"type": "string"}}
                ],
                "requestBody": {"content": {}}
            }},
            "/v2/user-tasks/{userTaskKey}": {"get": {"operationId": "get",
                "parameters": [{"in": "path", "name": "userTaskKey", "schema": {"type": "integer"}}]}}
        }});
        let found = operations(&document);
        assert_eq!(found.len(), 2);
        assert!(found[0].path.starts_with("/quotes/") && found[0].path.ends_with("/items/x"));
        assert!(found[0].has_body);
        assert_eq!(found[1].path, "/v2/user-tasks/1");
        assert!(!found[1].has_body);
    }
}
