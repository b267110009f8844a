//! The proxy host endpoints, as NPM answers them: list (sorted by domain names, `?query=` a
//! substring match, `?expand=`), get, create (201, answering the row as it was before nginx was
//! configured), update (a patch; `meta` replaced whole), soft delete, enable and disable; with
//! NPM's schema messages, "… is already in use" across all hosts that are not deleted (enabled
//! or not), NPM's TLS clean-up rules, and nginx's verdict in `meta.nginx_online`/`nginx_err`.

use std::time::SystemTime;

use serde_json::{Map, Value, json};

use crate::errors::{self, npm_error};
use crate::http::{Request, Response};
use crate::nginx_config;
use crate::schema::{self, Mode};
use crate::state::{Host, State, sqlite_time};

/// Routes `/api/nginx/proxy-hosts/{rest}`; `None` for an unknown route.
pub(crate) fn route(
    state: &mut State,
    request: &Request,
    user: u64,
    rest: &[&str],
    failing_create: bool,
) -> Option<Response> {
    let method = request.method.as_str();
    Some(match (method, rest) {
        ("GET", []) => list(state, request),
        ("POST", []) => create(state, request, user, failing_create),
        (_, [id, ..]) => {
            let Ok(id) = id.parse::<u64>() else {
                return Some(npm_error(400, "data/id must be integer"));
            };
            if state.hosts.get(&id).is_none_or(|host| host.deleted) {
                return Some(errors::not_found(&id.to_string()));
            }
            match (method, &rest[1..]) {
                ("GET", []) => get(state, request, id),
                ("PUT", []) => update(state, request, id),
                ("DELETE", []) => delete(state, id),
                ("POST", ["enable"]) => set_enabled(state, id, true),
                ("POST", ["disable"]) => set_enabled(state, id, false),
                _ => return None,
            }
        }
        _ => return None,
    })
}

fn list(state: &State, request: &Request) -> Response {
    let query = request
        .query
        .get("query")
        .map(|query| query.to_lowercase())
        .unwrap_or_default();
    let mut hosts: Vec<(String, Value)> = state
        .hosts
        .values()
        .filter(|host| !host.deleted)
        .map(|host| {
            // NPM sorts and searches the JSON text of the `domain_names` column.
            let names = host.fields.get("domain_names").cloned().unwrap_or_default();
            (names.to_string(), expanded(state, host, request))
        })
        .filter(|(names, _)| query.is_empty() || names.to_lowercase().contains(&query))
        .collect();
    hosts.sort_by(|a, b| a.0.cmp(&b.0));
    Response::json(
        200,
        &Value::Array(hosts.into_iter().map(|(_, host)| host).collect()),
    )
}

fn get(state: &State, request: &Request, id: u64) -> Response {
    Response::json(200, &expanded(state, &state.hosts[&id], request))
}

fn create(state: &mut State, request: &Request, user: u64, failing: bool) -> Response {
    let mut fields = match checked_body(request, Mode::Create) {
        Ok(fields) => fields,
        Err(response) => return response,
    };
    if let Err(response) = domains_free(state, &fields, None) {
        return response;
    }
    if fields.get("certificate_id") == Some(&json!("new")) {
        // NPM would ask Let's Encrypt now; the double, like an offline NPM, cannot.
        return errors::internal_error();
    }
    let id = state.next_host_id;
    state.next_host_id += 1;
    let now = sqlite_time(SystemTime::now());
    let mut row = Map::new();
    row.insert("id".into(), json!(id));
    row.insert("created_on".into(), json!(now));
    row.insert("modified_on".into(), json!(now));
    row.insert("owner_user_id".into(), json!(user));
    for (name, default) in [
        ("domain_names", json!([])),
        ("forward_host", json!("")),
        ("forward_port", json!(0)),
        ("access_list_id", json!(0)),
        ("certificate_id", json!(0)),
        ("ssl_forced", json!(false)),
        ("caching_enabled", json!(false)),
        ("block_exploits", json!(false)),
        ("advanced_config", json!("")),
        ("meta", json!({})),
        ("allow_websocket_upgrade", json!(false)),
        ("http2_support", json!(false)),
        ("forward_scheme", json!("http")),
        ("enabled", json!(true)),
        // Omitted locations are stored as null, sent empty ones as [].
        ("locations", Value::Null),
        ("hsts_enabled", json!(false)),
        ("hsts_subdomains", json!(false)),
        ("trust_forwarded_proto", json!(false)),
    ] {
        row.insert(name.into(), fields.remove(name).unwrap_or(default));
    }
    sort_domain_names(&mut row);
    clean_tls(&mut row);
    let host = Host {
        fields: row,
        deleted: false,
    };
    // The answer is the row as read before nginx was configured: no nginx status yet.
    let answer = expand(state, &host, &["owner", "certificate", "access_list"]);
    state.hosts.insert(id, host);
    if failing {
        return errors::internal_error();
    }
    if let Err(response) = configure(state, id) {
        return response;
    }
    Response::json(201, &answer)
}

fn update(state: &mut State, request: &Request, id: u64) -> Response {
    let fields = match checked_body(request, Mode::Update) {
        Ok(fields) => fields,
        Err(response) => return response,
    };
    if let Err(response) = domains_free(state, &fields, Some(id)) {
        return response;
    }
    let Some(host) = state.hosts.get_mut(&id) else {
        return errors::not_found(&id.to_string());
    };
    for (name, value) in fields {
        // A patch; `meta` included, which is thereby replaced whole.
        host.fields.insert(name, value);
    }
    host.fields
        .insert("modified_on".into(), json!(sqlite_time(SystemTime::now())));
    sort_domain_names(&mut host.fields);
    clean_tls(&mut host.fields);
    if let Err(response) = configure(state, id) {
        return response;
    }
    let host = &state.hosts[&id];
    Response::json(
        200,
        &expand(state, host, &["owner", "certificate", "access_list"]),
    )
}

fn delete(state: &mut State, id: u64) -> Response {
    if let Some(host) = state.hosts.get_mut(&id) {
        host.deleted = true;
    }
    match state.nginx.apply_host(id, None) {
        Ok(_) => Response::json(200, &json!(true)),
        Err(err) => nginx_failed(&err),
    }
}

fn set_enabled(state: &mut State, id: u64, enabled: bool) -> Response {
    let Some(host) = state.hosts.get_mut(&id) else {
        return errors::not_found(&id.to_string());
    };
    if host.enabled() == enabled {
        let message = if enabled {
            "Host is already enabled"
        } else {
            "Host is already disabled"
        };
        return npm_error(400, message);
    }
    host.fields.insert("enabled".into(), json!(enabled));
    if let Err(response) = configure(state, id) {
        return response;
    }
    Response::json(200, &json!(true))
}

/// Writes (enabled) or removes (disabled) the host's nginx config, reloads, and records
/// nginx's verdict in `meta` as NPM does.
fn configure(state: &mut State, id: u64) -> Result<(), Response> {
    let port = state.nginx.port();
    let host = &state.hosts[&id];
    let config =
        (host.enabled() && !host.deleted).then(|| nginx_config::proxy_host(id, &host.fields, port));
    let refused = state
        .nginx
        .apply_host(id, config.as_deref())
        .map_err(|err| nginx_failed(&err))?;
    if config.is_none() {
        return Ok(());
    }
    let host = state.hosts.get_mut(&id).expect("the host exists");
    let meta = host.fields.entry("meta").or_insert_with(|| json!({}));
    if !meta.is_object() {
        *meta = json!({});
    }
    let meta = meta.as_object_mut().expect("meta is an object");
    meta.insert("nginx_online".into(), json!(refused.is_none()));
    meta.insert(
        "nginx_err".into(),
        refused.map_or(Value::Null, Value::String),
    );
    Ok(())
}

fn nginx_failed(err: &str) -> Response {
    log::error!("npm-double: nginx failed: {err}");
    errors::internal_error()
}

fn checked_body(request: &Request, mode: Mode) -> Result<Map<String, Value>, Response> {
    let body: Value =
        serde_json::from_slice(&request.body).map_err(|_| npm_error(400, "data must be object"))?;
    schema::proxy_host(&body, mode).map_err(|message| npm_error(400, &message))
}

/// NPM's uniqueness rule: no name (ignoring case) of another host that is not deleted, enabled
/// or not.
fn domains_free(
    state: &State,
    fields: &Map<String, Value>,
    own_id: Option<u64>,
) -> Result<(), Response> {
    let Some(names) = fields.get("domain_names").and_then(Value::as_array) else {
        return Ok(());
    };
    for name in names.iter().filter_map(Value::as_str) {
        let taken = state.hosts.iter().any(|(id, host)| {
            !host.deleted
                && Some(*id) != own_id
                && host
                    .domain_names()
                    .any(|other| other.eq_ignore_ascii_case(name))
        });
        if taken {
            return Err(npm_error(400, &format!("{name} is already in use")));
        }
    }
    Ok(())
}

fn sort_domain_names(fields: &mut Map<String, Value>) {
    if let Some(Value::Array(names)) = fields.get_mut("domain_names") {
        names.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    }
}

/// NPM's rules after every create and update: no certificate, no forced SSL or HTTP/2; no
/// forced SSL, no HSTS; no HSTS, no HSTS for subdomains.
fn clean_tls(fields: &mut Map<String, Value>) {
    let flag = |fields: &Map<String, Value>, name: &str| {
        fields.get(name).and_then(Value::as_bool) == Some(true)
    };
    if fields.get("certificate_id").and_then(Value::as_i64) == Some(0) {
        fields.insert("ssl_forced".into(), json!(false));
        fields.insert("http2_support".into(), json!(false));
    }
    if !flag(fields, "ssl_forced") {
        fields.insert("hsts_enabled".into(), json!(false));
    }
    if !flag(fields, "hsts_enabled") {
        fields.insert("hsts_subdomains".into(), json!(false));
    }
}

/// The host with the expansions `?expand=` asks for.
fn expanded(state: &State, host: &Host, request: &Request) -> Value {
    let wanted: Vec<&str> = request
        .query
        .get("expand")
        .map(|expand| expand.split(',').map(str::trim).collect())
        .unwrap_or_default();
    expand(state, host, &wanted)
}

fn expand(state: &State, host: &Host, wanted: &[&str]) -> Value {
    let mut fields = host.fields.clone();
    let owner_id = fields.get("owner_user_id").and_then(Value::as_u64);
    for name in wanted {
        match *name {
            "owner" => {
                let owner = state
                    .users
                    .iter()
                    .find(|user| Some(user.id) == owner_id)
                    .map_or(Value::Null, |user| {
                        user.to_json(&sqlite_time(state.started))
                    });
                fields.insert("owner".into(), owner);
            }
            // The double keeps no certificates or access lists.
            "certificate" | "access_list" => {
                fields.insert((*name).into(), Value::Null);
            }
            _ => {}
        }
    }
    Value::Object(fields)
}
