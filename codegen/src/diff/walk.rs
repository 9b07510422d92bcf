//! Pairs the parts of two resolved documents (servers, security, operations, parameters, bodies,
//! responses, component schemas) and records what differs. Schema contents are compared in
//! `schema.rs`; this file decides which schemas to compare, under which group and direction.
//!
//! Operations are paired by method and full path (server base path + path template, parameter
//! names ignored), then by operationId. Component schemas are paired by name and compared once,
//! under their own group, with the union of the directions the two documents use them in; a
//! `$ref` to the same component on both sides is therefore not descended into at its use site.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::change::{Direction, Kind};
use super::rules::classify;
use super::{Change, Group, Site};
use crate::ir::{Api, HeaderRole, ParamLocation, TypeRef};
use crate::load::{pointer_join, unescape_pointer_segment};
use crate::resolve::Resolved;
use crate::settings::Settings;

const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Keys whose changes are documentation only, wherever they appear.
pub(super) const DOC_KEYS: &[&str] = &["description", "summary", "title", "example", "examples", "externalDocs", "xml", "tags", "links"];

pub(super) fn is_doc_key(key: &str) -> bool {
    DOC_KEYS.contains(&key) || key.starts_with("x-")
}

/// One of the two documents.
pub(super) struct Side<'a> {
    pub resolved: &'a Resolved,
    pub api: &'a Api,
    /// Path part of the first server URL, without a trailing slash.
    pub base_path: String,
}

impl<'a> Side<'a> {
    fn new(resolved: &'a Resolved, api: &'a Api) -> Self {
        let base_path = resolved
            .bundled
            .pointer("/servers/0/url")
            .and_then(Value::as_str)
            .map(|url| split_server_url(url).1)
            .unwrap_or_default();
        Side { resolved, api, base_path }
    }

    pub fn node(&self, pointer: &str) -> Option<&'a Value> {
        self.resolved.bundled.pointer(pointer)
    }

    pub fn site(&self, pointer: &str) -> Site {
        Site::from_location(self.resolved.location(pointer), pointer)
    }

    /// Follows a `$ref` chain from `site`: the pointer of the real node, and the component schema
    /// the site refers to directly (if it is a `$ref` to one).
    pub fn follow(&self, site: &str) -> (String, Option<String>) {
        let mut current = site.to_string();
        let mut first = None;
        for hop in 0..64 {
            let Some(Value::String(reference)) = self.node(&current).and_then(|n| n.get("$ref")) else { break };
            let target = reference.trim_start_matches('#').to_string();
            if hop == 0 {
                first = component_schema_name(&target);
            }
            current = target;
        }
        (current, first)
    }

    /// The Rust type lowered for a schema site.
    pub fn rust_type(&self, pointer: &str) -> Option<&'a TypeRef> {
        self.api.schema_index.get(pointer)
    }
}

/// `/components/schemas/<name>` -> name.
pub(super) fn component_schema_name(pointer: &str) -> Option<String> {
    let rest = pointer.strip_prefix("/components/schemas/")?;
    (!rest.contains('/')).then(|| unescape_pointer_segment(rest))
}

/// `https://host/base` -> (`https://host`, `/base`); relative URLs have no origin.
fn split_server_url(url: &str) -> (String, String) {
    let (origin, path) = match url.find("://") {
        Some(scheme_end) => match url[scheme_end + 3..].find('/') {
            Some(slash) => url.split_at(scheme_end + 3 + slash),
            None => (url, ""),
        },
        None => ("", url),
    };
    (origin.to_string(), path.trim_end_matches('/').to_string())
}

/// Where a change is recorded and which way its data travels.
#[derive(Debug, Clone)]
pub(super) struct Ctx {
    pub group: Group,
    pub direction: Direction,
}

/// The state of one diff.
pub(super) struct Walker<'a> {
    pub old: Side<'a>,
    pub new: Side<'a>,
    /// Component schema name -> the union of the directions it travels in, in both documents.
    pub usage: BTreeMap<String, Direction>,
    pub changes: Vec<Change>,
    /// (old, new) schema pairs being compared, so differently named refs cannot loop.
    pub stack: Vec<(String, String)>,
    /// Client environments by server position (settings `client.environments`).
    pub environments: Vec<(String, usize)>,
}

/// Compares two documents; the changes come grouped in report order.
pub(super) fn walk(old: &Resolved, old_api: &Api, new: &Resolved, new_api: &Api, settings: &Settings) -> Vec<Change> {
    let old = Side::new(old, old_api);
    let new = Side::new(new, new_api);
    let old_ops = operations(&old);
    let new_ops = operations(&new);
    let mut usage = schema_usage(&old, &old_ops);
    for (name, direction) in schema_usage(&new, &new_ops) {
        let entry = usage.entry(name).or_insert(direction);
        *entry = entry.union(direction);
    }
    let environments = settings.client.environments.iter().map(|(name, index)| (name.clone(), *index)).collect();
    let mut walker = Walker { old, new, usage, changes: Vec::new(), stack: Vec::new(), environments };
    walker.compare_document();
    walker.compare_operations(&old_ops, &new_ops);
    walker.compare_components();
    walker.changes
}

/// An operation (or a callback operation) of one document.
#[derive(Debug, Clone)]
struct OpRef {
    method: String,
    /// Path template (callback expression for callbacks).
    path: String,
    /// Pointer of the operation node (path item refs followed).
    pointer: String,
    /// Pointer of its path item node.
    item_pointer: String,
    /// Pairing key: method + full path with parameter names erased (callbacks: parent + name too).
    key: String,
    id: Option<String>,
    merchant_served: bool,
    callback: Option<String>,
}

impl OpRef {
    fn group(&self) -> Group {
        Group::Operation {
            method: self.method.to_uppercase(),
            path: self.path.clone(),
            operation_id: self.id.clone(),
            callback: self.callback.clone(),
        }
    }

    /// Direction of what the client sends (flipped when the merchant serves the operation).
    fn request_direction(&self) -> Direction {
        if self.merchant_served { Direction::Response } else { Direction::Request }
    }
}

fn erase_parameter_names(path: &str) -> String {
    let mut out = String::new();
    let mut in_braces = false;
    for ch in path.chars() {
        match ch {
            '{' => {
                in_braces = true;
                out.push_str("{}");
            }
            '}' => in_braces = false,
            _ if in_braces => {}
            _ => out.push(ch),
        }
    }
    let trimmed = out.trim_end_matches('/');
    if trimmed.is_empty() { "/".to_string() } else { trimmed.to_string() }
}

fn path_parameter_names(path: &str) -> Vec<String> {
    path.split('{').skip(1).filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_string())).collect()
}

/// Every operation and callback operation of a document, in document order.
fn operations(side: &Side<'_>) -> Vec<OpRef> {
    let mut out = Vec::new();
    let Some(Value::Object(paths)) = side.node("/paths") else { return out };
    for path in paths.keys() {
        let nominal = pointer_join("/paths", path);
        let (item_pointer, _) = side.follow(&nominal);
        let Some(Value::Object(item)) = side.node(&item_pointer) else { continue };
        for method in METHODS.iter().filter(|m| item.contains_key(**m)) {
            let pointer = format!("{item_pointer}/{method}");
            let nominal_op = format!("{nominal}/{method}");
            let ir = side.api.operations.iter().find(|op| op.origin == nominal_op);
            let id = side.node(&pointer).and_then(|op| op.get("operationId")).and_then(Value::as_str).map(str::to_string);
            let key = format!("{} {}", method.to_uppercase(), erase_parameter_names(&format!("{}{path}", side.base_path)));
            let op = OpRef {
                method: method.to_string(),
                path: path.clone(),
                pointer: pointer.clone(),
                item_pointer: item_pointer.clone(),
                key: key.clone(),
                id: id.clone(),
                merchant_served: ir.is_some_and(|op| op.merchant_served),
                callback: None,
            };
            out.push(op);
            out.extend(callback_operations(side, &pointer, &key, id.as_deref().unwrap_or(path)));
        }
    }
    out
}

fn callback_operations(side: &Side<'_>, operation_pointer: &str, parent_key: &str, parent_name: &str) -> Vec<OpRef> {
    let mut out = Vec::new();
    let Some(Value::Object(callbacks)) = side.node(&format!("{operation_pointer}/callbacks")) else { return out };
    for name in callbacks.keys() {
        let (callback_pointer, _) = side.follow(&pointer_join(&format!("{operation_pointer}/callbacks"), name));
        let Some(Value::Object(expressions)) = side.node(&callback_pointer) else { continue };
        for expression in expressions.keys() {
            let (item_pointer, _) = side.follow(&pointer_join(&callback_pointer, expression));
            let Some(Value::Object(item)) = side.node(&item_pointer) else { continue };
            for method in METHODS.iter().filter(|m| item.contains_key(**m)) {
                let pointer = format!("{item_pointer}/{method}");
                out.push(OpRef {
                    method: method.to_string(),
                    path: expression.clone(),
                    pointer: pointer.clone(),
                    item_pointer: item_pointer.clone(),
                    key: format!("{parent_key} callback {name} {} {expression}", method.to_uppercase()),
                    id: side.node(&pointer).and_then(|op| op.get("operationId")).and_then(Value::as_str).map(str::to_string),
                    merchant_served: true,
                    callback: Some(format!("{name} of {parent_name}")),
                });
            }
        }
    }
    out
}

/// Every `$ref` target in a subtree (examples are data, not refs).
fn refs_in(node: &Value, out: &mut Vec<String>) {
    match node {
        Value::Object(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    ("$ref", Value::String(reference)) => out.push(reference.trim_start_matches('#').to_string()),
                    ("example" | "examples" | "x-examples" | "callbacks", _) => {}
                    _ => refs_in(child, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| refs_in(item, out)),
        _ => {}
    }
}

/// Component schema name -> the directions the operations of one document use it in.
fn schema_usage(side: &Side<'_>, ops: &[OpRef]) -> BTreeMap<String, Direction> {
    let mut usage: BTreeMap<String, Direction> = BTreeMap::new();
    for op in ops {
        let request = op.request_direction();
        let mut roots = vec![(format!("{}/parameters", op.item_pointer), request)];
        roots.push((format!("{}/parameters", op.pointer), request));
        roots.push((format!("{}/requestBody", op.pointer), request));
        roots.push((format!("{}/responses", op.pointer), request.flipped()));
        for (root, direction) in roots {
            let Some(node) = side.node(&root) else { continue };
            let mut pending = Vec::new();
            refs_in(node, &mut pending);
            let mut seen = BTreeSet::new();
            while let Some(target) = pending.pop() {
                if !seen.insert(target.clone()) {
                    continue;
                }
                if let Some(name) = component_schema_name(&target) {
                    let entry = usage.entry(name).or_insert(direction);
                    *entry = entry.union(direction);
                }
                if let Some(node) = side.node(&target) {
                    refs_in(node, &mut pending);
                }
            }
        }
    }
    usage
}

/// A canonical text of a JSON value (for messages).
pub(super) fn show(value: &Value) -> String {
    match value {
        Value::String(text) => format!("'{text}'"),
        other => other.to_string(),
    }
}

fn show_opt(value: Option<&Value>) -> String {
    value.map(show).unwrap_or_else(|| "(none)".to_string())
}

impl Walker<'_> {
    /// Records a change at a place of each document.
    pub fn push(&mut self, ctx: &Ctx, kind: Kind, subject: &str, detail: String, old: Option<&str>, new: Option<&str>) {
        let class = classify(kind, ctx.direction);
        self.changes.push(Change {
            group: ctx.group.clone(),
            subject: subject.to_string(),
            kind,
            detail,
            direction: ctx.direction,
            semver: class.semver,
            wire: class.wire,
            old: old.map(|p| self.old.site(p)),
            new: new.map(|p| self.new.site(p)),
        });
    }

    /// Reports documentation keys of two objects that differ.
    pub fn compare_doc_keys(&mut self, ctx: &Ctx, old: &str, new: &str, subject: &str, keys: &[&str]) {
        let (o, n) = (self.old.node(old), self.new.node(new));
        let mut names: Vec<String> = Vec::new();
        for map in [o, n].into_iter().flatten().filter_map(Value::as_object) {
            for key in map.keys() {
                if (keys.contains(&key.as_str()) || key.starts_with("x-")) && !names.contains(key) {
                    names.push(key.clone());
                }
            }
        }
        for key in names {
            let (a, b) = (o.and_then(|v| v.get(&key)), n.and_then(|v| v.get(&key)));
            if a != b {
                self.push(ctx, Kind::DocumentationChanged, subject, key.clone(), Some(&pointer_join(old, &key)), Some(&pointer_join(new, &key)));
            }
        }
    }

    /// Reports keys outside `known` (and not documentation) that differ, as not understood.
    fn compare_unknown_keys(&mut self, ctx: &Ctx, old: &str, new: &str, subject: &str, known: &[&str]) {
        let (o, n) = (self.old.node(old), self.new.node(new));
        let mut names: Vec<String> = Vec::new();
        for map in [o, n].into_iter().flatten().filter_map(Value::as_object) {
            for key in map.keys() {
                if !known.contains(&key.as_str()) && !is_doc_key(key) && !names.contains(key) {
                    names.push(key.clone());
                }
            }
        }
        for key in names {
            let (a, b) = (o.and_then(|v| v.get(&key)), n.and_then(|v| v.get(&key)));
            if a != b {
                let detail = format!("{key}: {} -> {}", show_opt(a), show_opt(b));
                self.push(ctx, Kind::KeywordChanged, subject, detail, Some(&pointer_join(old, &key)), Some(&pointer_join(new, &key)));
            }
        }
    }

    fn compare_document(&mut self) {
        let ctx = Ctx { group: Group::Document, direction: Direction::Api };
        let known = ["openapi", "info", "servers", "paths", "components", "security"];
        self.compare_doc_keys(&ctx, "", "", "document", &["openapi", "tags", "externalDocs"]);
        self.compare_unknown_keys(&ctx, "", "", "document", &known);
        self.compare_info(&ctx);
        self.compare_servers(&ctx);
        let (old_security, new_security) = (security_alternatives(self.old.node("/security")), security_alternatives(self.new.node("/security")));
        self.compare_security(&ctx, "security", old_security, new_security, "/security", "/security");
        self.compare_security_schemes(&ctx);
    }

    fn compare_info(&mut self, ctx: &Ctx) {
        let (o, n) = (self.old.node("/info"), self.new.node("/info"));
        let mut keys: Vec<String> = Vec::new();
        for map in [o, n].into_iter().flatten().filter_map(Value::as_object) {
            keys.extend(map.keys().filter(|k| !keys.contains(k)).cloned().collect::<Vec<_>>());
        }
        for key in keys {
            let (a, b) = (o.and_then(|v| v.get(&key)), n.and_then(|v| v.get(&key)));
            if a != b {
                let detail = match (a, b) {
                    (Some(Value::String(a)), Some(Value::String(b))) if a.len() + b.len() < 60 => format!("info.{key} '{a}' -> '{b}'"),
                    _ => format!("info.{key}"),
                };
                let pointer = pointer_join("/info", &key);
                self.push(ctx, Kind::DocumentationChanged, "info", detail, Some(&pointer), Some(&pointer));
            }
        }
    }

    fn compare_servers(&mut self, ctx: &Ctx) {
        let servers = |side: &Side<'_>| -> Vec<(String, String, usize)> {
            let Some(Value::Array(list)) = side.node("/servers") else { return Vec::new() };
            list.iter()
                .enumerate()
                .filter_map(|(index, server)| {
                    let url = server.get("url")?.as_str()?;
                    let (origin, path) = split_server_url(url);
                    Some((origin, path, index))
                })
                .collect()
        };
        let (old, new) = (servers(&self.old), servers(&self.new));
        for (origin, _, index) in &old {
            let pointer = format!("/servers/{index}");
            match new.iter().find(|(o, _, _)| o == origin) {
                Some((_, _, new_index)) => {
                    let new_pointer = format!("/servers/{new_index}");
                    if index != new_index {
                        let environments: Vec<&str> =
                            self.environments.iter().filter(|(_, i)| i == index).map(|(name, _)| name.as_str()).collect();
                        let mut detail = format!("position {index} -> {new_index}");
                        if !environments.is_empty() {
                            detail.push_str(&format!(" (environment {} now means another server)", environments.join(", ")));
                        }
                        self.push(ctx, Kind::ServerMoved, &format!("server {origin}"), detail, Some(&pointer), Some(&new_pointer));
                    }
                    self.compare_doc_keys(ctx, &pointer, &new_pointer, &format!("server {origin}"), &["description"]);
                    self.compare_unknown_keys(ctx, &pointer, &new_pointer, &format!("server {origin}"), &["url"]);
                }
                None => self.push(ctx, Kind::ServerRemoved, &format!("server {origin}"), "removed".into(), Some(&pointer), Some("/servers")),
            }
        }
        for (origin, _, index) in &new {
            if !old.iter().any(|(o, _, _)| o == origin) {
                let pointer = format!("/servers/{index}");
                self.push(ctx, Kind::ServerAdded, &format!("server {origin}"), "added".into(), Some("/servers"), Some(&pointer));
            }
        }
        if self.old.base_path != self.new.base_path {
            let detail = format!("base path '{}' -> '{}'", self.old.base_path, self.new.base_path);
            self.push(ctx, Kind::BasePathChanged, "servers", detail, Some("/servers/0/url"), Some("/servers/0/url"));
        }
    }

    fn compare_security(&mut self, ctx: &Ctx, subject: &str, old: BTreeSet<String>, new: BTreeSet<String>, old_pointer: &str, new_pointer: &str) {
        if old == new {
            return;
        }
        // "Open" lists accept a call without credentials; then nothing else matters.
        let open = |set: &BTreeSet<String>| set.is_empty() || set.contains("");
        let kind = match (open(&old), open(&new)) {
            (true, true) => return,
            (true, false) => Kind::SecurityRequirementAdded,
            (false, true) => Kind::SecurityRequirementRemoved,
            (false, false) if new.is_subset(&old) => Kind::SecurityRequirementAdded,
            (false, false) if old.is_subset(&new) => Kind::SecurityRequirementRemoved,
            (false, false) => Kind::SecurityRequirementChanged,
        };
        let show_set = |set: &BTreeSet<String>| {
            if set.is_empty() {
                "none".to_string()
            } else {
                set.iter().map(|alt| if alt.is_empty() { "none".to_string() } else { alt.clone() }).collect::<Vec<_>>().join(" or ")
            }
        };
        let detail = format!("{} -> {}", show_set(&old), show_set(&new));
        self.push(ctx, kind, subject, detail, Some(old_pointer), Some(new_pointer));
    }

    fn compare_security_schemes(&mut self, ctx: &Ctx) {
        let base = "/components/securitySchemes";
        let names = |side: &Side<'_>| -> Vec<String> {
            side.node(base).and_then(Value::as_object).map(|m| m.keys().cloned().collect()).unwrap_or_default()
        };
        let (old, new) = (names(&self.old), names(&self.new));
        for name in &old {
            let pointer = pointer_join(base, name);
            let subject = format!("security scheme {name}");
            if !new.contains(name) {
                self.push(ctx, Kind::SecuritySchemeRemoved, &subject, "removed".into(), Some(&pointer), Some(base));
                continue;
            }
            let (old_real, _) = self.old.follow(&pointer);
            let (new_real, _) = self.new.follow(&pointer);
            self.compare_doc_keys(ctx, &old_real, &new_real, &subject, &["description"]);
            let strip = |node: Option<&Value>| -> Value {
                match node {
                    Some(Value::Object(map)) => {
                        Value::Object(map.iter().filter(|(k, _)| !is_doc_key(k)).map(|(k, v)| (k.clone(), v.clone())).collect())
                    }
                    other => other.cloned().unwrap_or(Value::Null),
                }
            };
            let (a, b) = (strip(self.old.node(&old_real)), strip(self.new.node(&new_real)));
            if a != b {
                let detail = format!("{a} -> {b}");
                self.push(ctx, Kind::SecuritySchemeChanged, &subject, detail, Some(&old_real), Some(&new_real));
            }
        }
        for name in new.iter().filter(|n| !old.contains(n)) {
            let pointer = pointer_join(base, name);
            self.push(ctx, Kind::SecuritySchemeAdded, &format!("security scheme {name}"), "added".into(), Some(base), Some(&pointer));
        }
    }

    fn compare_operations(&mut self, old_ops: &[OpRef], new_ops: &[OpRef]) {
        let mut new_taken = vec![false; new_ops.len()];
        let mut pairs: Vec<(usize, Option<usize>)> = Vec::new();
        for (index, op) in old_ops.iter().enumerate() {
            let found = new_ops.iter().position(|n| n.key == op.key);
            if let Some(found) = found {
                new_taken[found] = true;
            }
            pairs.push((index, found));
        }
        // Operations that moved: same operationId, same kind (operation or callback).
        for pair in pairs.iter_mut().filter(|(_, found)| found.is_none()) {
            let op = &old_ops[pair.0];
            let Some(id) = &op.id else { continue };
            let moved = new_ops
                .iter()
                .enumerate()
                .position(|(i, n)| !new_taken[i] && n.id.as_ref() == Some(id) && n.callback.is_some() == op.callback.is_some());
            if let Some(moved) = moved {
                new_taken[moved] = true;
                pair.1 = Some(moved);
            }
        }
        for (old_index, new_index) in pairs {
            let op = &old_ops[old_index];
            match new_index {
                Some(new_index) => self.compare_operation(op, &new_ops[new_index]),
                None => {
                    let ctx = Ctx { group: op.group(), direction: Direction::Api };
                    let parent = op.pointer.rsplit_once('/').map(|(p, _)| p.to_string()).unwrap_or_default();
                    let parent = if self.new.node(&parent).is_some() { parent } else { "/paths".to_string() };
                    self.push(&ctx, Kind::OperationRemoved, "operation", "removed".into(), Some(&op.pointer), Some(&parent));
                }
            }
        }
        for (index, op) in new_ops.iter().enumerate() {
            if !new_taken[index] {
                let ctx = Ctx { group: op.group(), direction: Direction::Api };
                let parent = op.pointer.rsplit_once('/').map(|(p, _)| p.to_string()).unwrap_or_default();
                let parent = if self.old.node(&parent).is_some() { parent } else { "/paths".to_string() };
                self.push(&ctx, Kind::OperationAdded, "operation", "added".into(), Some(&parent), Some(&op.pointer));
            }
        }
    }

    fn compare_operation(&mut self, old: &OpRef, new: &OpRef) {
        let api = Ctx { group: new.group(), direction: Direction::Api };
        let (o, n) = (old.pointer.as_str(), new.pointer.as_str());
        if old.id != new.id {
            let detail = format!("operationId {} -> {}", old.id.as_deref().unwrap_or("(none)"), new.id.as_deref().unwrap_or("(none)"));
            self.push(&api, Kind::OperationRenamed, "operation", detail, Some(o), Some(n));
        }
        let old_full = format!("{}{}", self.old.base_path, old.path);
        let new_full = format!("{}{}", self.new.base_path, new.path);
        if old.key != new.key {
            let detail = format!("{} {old_full} -> {} {new_full}", old.method.to_uppercase(), new.method.to_uppercase());
            self.push(&api, Kind::OperationPathChanged, "operation", detail, Some(o), Some(n));
        }
        let (old_names, new_names) = (path_parameter_names(&old.path), path_parameter_names(&new.path));
        if old.callback.is_none() && old_names.len() == new_names.len() {
            for (a, b) in old_names.iter().zip(&new_names).filter(|(a, b)| a != b) {
                let detail = format!("{{{a}}} -> {{{b}}}");
                self.push(&api, Kind::PathParameterRenamed, &format!("path parameter {b}"), detail, Some(&old.item_pointer), Some(&new.item_pointer));
            }
        }
        self.compare_deprecated(&api, o, n, "operation");
        self.compare_doc_keys(&api, o, n, "operation", DOC_KEYS);
        self.compare_doc_keys(&api, &old.item_pointer, &new.item_pointer, "path item", &["summary", "description"]);
        let known = ["operationId", "parameters", "requestBody", "responses", "callbacks", "deprecated", "security"];
        self.compare_unknown_keys(&api, o, n, "operation", &known);
        let item_known = ["parameters", "summary", "description", "get", "put", "post", "delete", "options", "head", "patch", "trace"];
        self.compare_unknown_keys(&api, &old.item_pointer, &new.item_pointer, "path item", &item_known);
        let has_own = |side: &Side<'_>, p: &str| side.node(&format!("{p}/security")).is_some();
        if has_own(&self.old, o) || has_own(&self.new, n) {
            let effective = |side: &Side<'_>, p: &str| {
                let own = format!("{p}/security");
                match side.node(&own) {
                    Some(node) => (security_alternatives(Some(node)), own),
                    None => (security_alternatives(side.node("/security")), "/security".to_string()),
                }
            };
            let (old_set, old_at) = effective(&self.old, o);
            let (new_set, new_at) = effective(&self.new, n);
            self.compare_security(&api, "security", old_set, new_set, &old_at, &new_at);
        }
        let request = Ctx { group: new.group(), direction: new.request_direction() };
        self.compare_parameters(&request, old, new);
        self.compare_idempotency(&api, old, new);
        self.compare_request_body(&request, o, n);
        let response = Ctx { group: new.group(), direction: new.request_direction().flipped() };
        self.compare_responses(&response, o, n);
    }

    pub fn compare_deprecated(&mut self, ctx: &Ctx, old: &str, new: &str, subject: &str) {
        let flag = |side: &Side<'_>, p: &str| side.node(p).and_then(|n| n.get("deprecated")).and_then(Value::as_bool).unwrap_or(false);
        let (a, b) = (flag(&self.old, old), flag(&self.new, new));
        if a != b {
            let kind = if b { Kind::DeprecatedAdded } else { Kind::DeprecatedRemoved };
            let detail = if b { "now deprecated" } else { "no longer deprecated" };
            self.push(ctx, kind, subject, detail.into(), Some(old), Some(new));
        }
    }

    /// Effective parameters of an operation: (location, name, pointer of the real node).
    fn parameters(side: &Side<'_>, op: &OpRef) -> Vec<(String, String, String)> {
        let mut out: Vec<(String, String, String)> = Vec::new();
        for base in [format!("{}/parameters", op.item_pointer), format!("{}/parameters", op.pointer)] {
            let Some(Value::Array(list)) = side.node(&base) else { continue };
            for index in 0..list.len() {
                let (real, _) = side.follow(&format!("{base}/{index}"));
                let Some(node) = side.node(&real) else { continue };
                let location = node.get("in").and_then(Value::as_str).unwrap_or("").to_string();
                let name = node.get("name").and_then(Value::as_str).unwrap_or("").to_string();
                out.retain(|(l, n, _)| !(l == &location && n.eq_ignore_ascii_case(&name)));
                out.push((location, name, real));
            }
        }
        out
    }

    fn header_role(side: &Side<'_>, op: &OpRef, location: &str, name: &str) -> HeaderRole {
        if location != "header" {
            return HeaderRole::Plain;
        }
        let ir = side.api.operations.iter().find(|o| o.origin == op.pointer);
        ir.and_then(|o| o.params.iter().find(|p| p.location == ParamLocation::Header && p.wire_name.eq_ignore_ascii_case(name)))
            .map(|p| p.role)
            .unwrap_or(HeaderRole::Plain)
    }

    /// Whether the operation declares an idempotency-key header: its method then takes
    /// `IdempotentOptions` and returns `Idempotent<..>`, so gaining or losing one changes the
    /// method's Rust signature, whatever the header's own change is classified as.
    fn idempotent(side: &Side<'_>, op: &OpRef) -> bool {
        let ir = side.api.operations.iter().find(|o| o.origin == op.pointer);
        ir.is_some_and(|o| o.params.iter().any(|p| p.location == ParamLocation::Header && p.role == HeaderRole::IdempotencyKey))
    }

    fn compare_idempotency(&mut self, ctx: &Ctx, old: &OpRef, new: &OpRef) {
        let (a, b) = (Self::idempotent(&self.old, old), Self::idempotent(&self.new, new));
        if a != b {
            let detail = if b {
                "method signature: CallOptions -> IdempotentOptions, result wrapped in Idempotent (an idempotency key is now declared)"
            } else {
                "method signature: IdempotentOptions -> CallOptions, result no longer wrapped in Idempotent (no idempotency key is declared)"
            };
            self.push(ctx, Kind::RustTypeChanged, "operation", detail.into(), Some(&old.pointer), Some(&new.pointer));
        }
    }

    fn compare_parameters(&mut self, ctx: &Ctx, old: &OpRef, new: &OpRef) {
        let old_params = Self::parameters(&self.old, old);
        let new_params = Self::parameters(&self.new, new);
        // Path parameters pair by position in the template (a rename keeps its place).
        let path_order = |op: &OpRef, params: &[(String, String, String)]| -> Vec<Option<usize>> {
            path_parameter_names(&op.path)
                .iter()
                .map(|name| params.iter().position(|(l, n, _)| l == "path" && n.eq_ignore_ascii_case(name)))
                .collect()
        };
        let mut pairs: Vec<(Option<usize>, Option<usize>)> = Vec::new();
        let (old_path, new_path) = (path_order(old, &old_params), path_order(new, &new_params));
        let mut used_old = BTreeSet::new();
        let mut used_new = BTreeSet::new();
        if old_path.len() == new_path.len() {
            for (a, b) in old_path.iter().zip(&new_path) {
                if let (Some(a), Some(b)) = (a, b) {
                    pairs.push((Some(*a), Some(*b)));
                    used_old.insert(*a);
                    used_new.insert(*b);
                }
            }
        }
        for (index, (location, name, _)) in old_params.iter().enumerate().filter(|(i, _)| !used_old.contains(i)) {
            let found = new_params
                .iter()
                .enumerate()
                .position(|(j, (l, n, _))| !used_new.contains(&j) && l == location && n.eq_ignore_ascii_case(name));
            if let Some(found) = found {
                used_new.insert(found);
            }
            pairs.push((Some(index), found));
        }
        for index in (0..new_params.len()).filter(|j| !used_new.contains(j)) {
            pairs.push((None, Some(index)));
        }
        let required = |side: &Side<'_>, p: &str| {
            let node = side.node(p);
            node.and_then(|n| n.get("in")).and_then(Value::as_str) == Some("path")
                || node.and_then(|n| n.get("required")).and_then(Value::as_bool).unwrap_or(false)
        };
        for pair in pairs {
            match pair {
                (Some(a), Some(b)) => {
                    let (location, name, op_pointer) = &old_params[a];
                    let (_, new_name, np_pointer) = &new_params[b];
                    let subject = parameter_subject(location, new_name);
                    let managed = Self::header_role(&self.old, old, location, name) != HeaderRole::Plain
                        || Self::header_role(&self.new, new, location, new_name) != HeaderRole::Plain;
                    let (ra, rb) = (required(&self.old, op_pointer), required(&self.new, np_pointer));
                    if ra != rb {
                        let kind = match (managed, rb) {
                            (false, true) => Kind::ParameterBecameRequired,
                            (false, false) => Kind::ParameterBecameOptional,
                            (true, true) => Kind::ManagedHeaderBecameRequired,
                            (true, false) => Kind::ManagedHeaderBecameOptional,
                        };
                        let detail = if rb { "now required" } else { "now optional" };
                        self.push(ctx, kind, &subject, detail.into(), Some(op_pointer), Some(np_pointer));
                    }
                    self.compare_deprecated(ctx, op_pointer, np_pointer, &subject);
                    self.compare_doc_keys(ctx, op_pointer, np_pointer, &subject, DOC_KEYS);
                    let style = |side: &Side<'_>, p: &str| -> Vec<Option<Value>> {
                        ["style", "explode", "allowReserved", "allowEmptyValue"]
                            .iter()
                            .map(|k| side.node(p).and_then(|n| n.get(*k)).cloned())
                            .collect()
                    };
                    if style(&self.old, op_pointer) != style(&self.new, np_pointer) {
                        self.push(ctx, Kind::ParameterSerializationChanged, &subject, "style, explode or allowReserved".into(), Some(op_pointer), Some(np_pointer));
                    }
                    let known = ["name", "in", "required", "deprecated", "style", "explode", "allowReserved", "allowEmptyValue", "schema"];
                    self.compare_unknown_keys(ctx, op_pointer, np_pointer, &subject, &known);
                    let (os, ns) = (format!("{op_pointer}/schema"), format!("{np_pointer}/schema"));
                    if self.old.node(&os).is_some() && self.new.node(&ns).is_some() {
                        self.compare_schema(ctx, &os, &ns, &subject, false);
                    }
                }
                (Some(a), None) => {
                    let (location, name, pointer) = &old_params[a];
                    let managed = Self::header_role(&self.old, old, location, name) != HeaderRole::Plain;
                    let kind = match (managed, required(&self.old, pointer)) {
                        (false, true) => Kind::RequiredParameterRemoved,
                        (false, false) => Kind::OptionalParameterRemoved,
                        (true, true) => Kind::RequiredManagedHeaderRemoved,
                        (true, false) => Kind::OptionalManagedHeaderRemoved,
                    };
                    self.push(ctx, kind, &parameter_subject(location, name), "removed".into(), Some(pointer), Some(&new.pointer));
                }
                (None, Some(b)) => {
                    let (location, name, pointer) = &new_params[b];
                    let managed = Self::header_role(&self.new, new, location, name) != HeaderRole::Plain;
                    let kind = match (managed, required(&self.new, pointer)) {
                        (false, true) => Kind::ParameterAddedRequired,
                        (false, false) => Kind::ParameterAddedOptional,
                        (true, true) => Kind::ManagedHeaderAddedRequired,
                        (true, false) => Kind::ManagedHeaderAddedOptional,
                    };
                    self.push(ctx, kind, &parameter_subject(location, name), "added".into(), Some(&old.pointer), Some(pointer));
                }
                (None, None) => {}
            }
        }
    }

    fn compare_request_body(&mut self, ctx: &Ctx, old_op: &str, new_op: &str) {
        let site = |side: &Side<'_>, op: &str| {
            let nominal = format!("{op}/requestBody");
            side.node(&nominal).map(|_| side.follow(&nominal).0)
        };
        let required = |side: &Side<'_>, p: &str| side.node(p).and_then(|n| n.get("required")).and_then(Value::as_bool).unwrap_or(false);
        let subject = "request body";
        match (site(&self.old, old_op), site(&self.new, new_op)) {
            (None, None) => {}
            (Some(o), None) => {
                let kind = if required(&self.old, &o) { Kind::RequiredRequestBodyRemoved } else { Kind::OptionalRequestBodyRemoved };
                self.push(ctx, kind, subject, "removed".into(), Some(&o), Some(new_op));
            }
            (None, Some(n)) => {
                let kind = if required(&self.new, &n) { Kind::RequestBodyAddedRequired } else { Kind::RequestBodyAddedOptional };
                self.push(ctx, kind, subject, "added".into(), Some(old_op), Some(&n));
            }
            (Some(o), Some(n)) => {
                let (a, b) = (required(&self.old, &o), required(&self.new, &n));
                if a != b {
                    let kind = if b { Kind::RequestBodyBecameRequired } else { Kind::RequestBodyBecameOptional };
                    let detail = if b { "now required" } else { "now optional" };
                    self.push(ctx, kind, subject, detail.into(), Some(&o), Some(&n));
                }
                self.compare_doc_keys(ctx, &o, &n, subject, DOC_KEYS);
                self.compare_unknown_keys(ctx, &o, &n, subject, &["content", "required"]);
                self.compare_content(ctx, &o, &n, subject);
            }
        }
    }

    /// Compares the `content` of two bodies (request bodies or responses), by media type essence.
    fn compare_content(&mut self, ctx: &Ctx, old: &str, new: &str, subject: &str) {
        let media = |side: &Side<'_>, owner: &str| -> Vec<(String, String)> {
            let base = format!("{owner}/content");
            side.node(&base)
                .and_then(Value::as_object)
                .map(|m| m.keys().map(|k| (media_essence(k), pointer_join(&base, k))).collect())
                .unwrap_or_default()
        };
        let (old_media, new_media) = (media(&self.old, old), media(&self.new, new));
        let single = old_media.len() <= 1 && new_media.len() <= 1;
        for (essence, op) in &old_media {
            match new_media.iter().find(|(e, _)| e == essence) {
                Some((_, np)) => {
                    let media_subject = if single { subject.to_string() } else { format!("{subject} ({essence})") };
                    self.compare_doc_keys(ctx, op, np, &media_subject, DOC_KEYS);
                    self.compare_unknown_keys(ctx, op, np, &media_subject, &["schema"]);
                    let (os, ns) = (format!("{op}/schema"), format!("{np}/schema"));
                    match (self.old.node(&os).is_some(), self.new.node(&ns).is_some()) {
                        (true, true) => self.compare_schema(ctx, &os, &ns, &media_subject, false),
                        (false, false) => {}
                        _ => self.push(ctx, Kind::TypeChanged, &media_subject, "schema given on one side only".into(), Some(op), Some(np)),
                    }
                }
                None => {
                    let target = format!("{new}/content");
                    let target = if self.new.node(&target).is_some() { target } else { new.to_string() };
                    self.push(ctx, Kind::ContentTypeRemoved, subject, format!("{essence} removed"), Some(op), Some(&target));
                }
            }
        }
        for (essence, np) in &new_media {
            if !old_media.iter().any(|(e, _)| e == essence) {
                let target = format!("{old}/content");
                let target = if self.old.node(&target).is_some() { target } else { old.to_string() };
                self.push(ctx, Kind::ContentTypeAdded, subject, format!("{essence} added"), Some(&target), Some(np));
            }
        }
    }

    fn compare_responses(&mut self, ctx: &Ctx, old_op: &str, new_op: &str) {
        let statuses = |side: &Side<'_>, op: &str| -> Vec<String> {
            side.node(&format!("{op}/responses")).and_then(Value::as_object).map(|m| m.keys().cloned().collect()).unwrap_or_default()
        };
        let (old_statuses, new_statuses) = (statuses(&self.old, old_op), statuses(&self.new, new_op));
        let success = |status: &str| status.starts_with('2');
        let find = |list: &[String], status: &str| list.iter().find(|s| s.eq_ignore_ascii_case(status)).cloned();
        for status in &old_statuses {
            let op = pointer_join(&format!("{old_op}/responses"), status);
            let subject = format!("response {status}");
            match find(&new_statuses, status) {
                Some(new_status) => {
                    let np = pointer_join(&format!("{new_op}/responses"), &new_status);
                    let (o, _) = self.old.follow(&op);
                    let (n, _) = self.new.follow(&np);
                    self.compare_doc_keys(ctx, &o, &n, &subject, DOC_KEYS);
                    self.compare_unknown_keys(ctx, &o, &n, &subject, &["content", "headers"]);
                    self.compare_response_headers(ctx, &o, &n, &subject);
                    self.compare_content(ctx, &o, &n, &subject);
                }
                None => {
                    let kind = if success(status) { Kind::SuccessResponseRemoved } else { Kind::ErrorResponseRemoved };
                    self.push(ctx, kind, &subject, "removed".into(), Some(&op), Some(&format!("{new_op}/responses")));
                }
            }
        }
        for status in new_statuses.iter().filter(|s| find(&old_statuses, s).is_none()) {
            let np = pointer_join(&format!("{new_op}/responses"), status);
            let kind = if success(status) { Kind::SuccessResponseAdded } else { Kind::ErrorResponseAdded };
            self.push(ctx, kind, &format!("response {status}"), "added".into(), Some(&format!("{old_op}/responses")), Some(&np));
        }
    }

    fn compare_response_headers(&mut self, ctx: &Ctx, old: &str, new: &str, subject: &str) {
        let headers = |side: &Side<'_>, owner: &str| -> Vec<(String, String)> {
            let base = format!("{owner}/headers");
            side.node(&base)
                .and_then(Value::as_object)
                .map(|m| m.keys().map(|k| (k.to_ascii_lowercase(), side.follow(&pointer_join(&base, k)).0)).collect())
                .unwrap_or_default()
        };
        let (old_headers, new_headers) = (headers(&self.old, old), headers(&self.new, new));
        for (name, op) in &old_headers {
            let header_subject = format!("{subject} header {name}");
            match new_headers.iter().find(|(n, _)| n == name) {
                Some((_, np)) => {
                    self.compare_doc_keys(ctx, op, np, &header_subject, DOC_KEYS);
                    let (a, b) = (self.old.resolved_without_docs(op), self.new.resolved_without_docs(np));
                    if a != b {
                        self.push(ctx, Kind::ResponseHeaderChanged, &header_subject, "schema or required-ness".into(), Some(op), Some(np));
                    }
                }
                None => self.push(ctx, Kind::ResponseHeaderRemoved, &header_subject, "removed".into(), Some(op), Some(new)),
            }
        }
        for (name, np) in new_headers.iter().filter(|(n, _)| !old_headers.iter().any(|(o, _)| o == n)) {
            self.push(ctx, Kind::ResponseHeaderAdded, &format!("{subject} header {name}"), "added".into(), Some(old), Some(np));
        }
    }

    fn compare_components(&mut self) {
        let base = "/components/schemas";
        let names = |side: &Side<'_>| -> Vec<String> {
            side.node(base).and_then(Value::as_object).map(|m| m.keys().cloned().collect()).unwrap_or_default()
        };
        let (old_names, new_names) = (names(&self.old), names(&self.new));
        let mut all: BTreeSet<String> = old_names.iter().cloned().collect();
        all.extend(new_names.iter().cloned());
        // Removed and added schemas with identical contents are renames.
        let removed: Vec<&String> = old_names.iter().filter(|n| !new_names.contains(n)).collect();
        let added: Vec<&String> = new_names.iter().filter(|n| !old_names.contains(n)).collect();
        let mut renamed_to: BTreeMap<String, String> = BTreeMap::new();
        for old_name in &removed {
            let old_node = self.old.node(&pointer_join(base, old_name));
            let target = added
                .iter()
                .find(|new_name| !renamed_to.values().any(|v| v == **new_name) && self.new.node(&pointer_join(base, new_name)) == old_node);
            if let Some(target) = target {
                renamed_to.insert((*old_name).clone(), (*target).clone());
            }
        }
        for name in all {
            let pointer = pointer_join(base, &name);
            let in_old = old_names.contains(&name);
            let in_new = new_names.contains(&name);
            let ctx = self.schema_ctx(&name);
            let subject = self.schema_subject(&name);
            match (in_old, in_new) {
                (true, true) => self.compare_schema(&ctx, &pointer, &pointer, &subject, false),
                (true, false) => match renamed_to.get(&name) {
                    Some(new_name) => {
                        let new_pointer = pointer_join(base, new_name);
                        self.push(&ctx, Kind::SchemaRenamed, &subject, format!("{name} -> {new_name}"), Some(&pointer), Some(&new_pointer));
                    }
                    None => self.push(&ctx, Kind::SchemaRemoved, &subject, "removed".into(), Some(&pointer), Some(base)),
                },
                (false, true) => {
                    if !renamed_to.values().any(|v| v == &name) {
                        self.push(&ctx, Kind::SchemaAdded, &subject, "added".into(), Some(base), Some(&pointer));
                    }
                }
                (false, false) => {}
            }
        }
    }

    fn schema_ctx(&self, name: &str) -> Ctx {
        let usage = self.usage.get(name).copied().unwrap_or(Direction::Unused);
        let pointer = pointer_join("/components/schemas", name);
        let rust = self.new.rust_type(&pointer).or_else(|| self.old.rust_type(&pointer));
        let rust_name = match rust {
            Some(TypeRef::Named(rust)) if rust != name => Some(rust.clone()),
            _ => None,
        };
        Ctx { group: Group::Schema { name: name.to_string(), rust_name, usage }, direction: usage }
    }

    fn schema_subject(&self, name: &str) -> String {
        let pointer = pointer_join("/components/schemas", name);
        match self.new.rust_type(&pointer).or_else(|| self.old.rust_type(&pointer)) {
            Some(TypeRef::Named(rust)) => rust.clone(),
            _ => name.to_string(),
        }
    }
}

impl Side<'_> {
    /// The node at a pointer without documentation keys (for whole-node comparisons).
    fn resolved_without_docs(&self, pointer: &str) -> Value {
        fn strip(value: &Value) -> Value {
            match value {
                Value::Object(map) => Value::Object(map.iter().filter(|(k, _)| !is_doc_key(k)).map(|(k, v)| (k.clone(), strip(v))).collect()),
                Value::Array(items) => Value::Array(items.iter().map(strip).collect()),
                other => other.clone(),
            }
        }
        self.node(pointer).map(strip).unwrap_or(Value::Null)
    }
}

/// The essence of a media type: `application/json;charset=UTF-8` -> `application/json`.
fn media_essence(media_type: &str) -> String {
    media_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

fn parameter_subject(location: &str, name: &str) -> String {
    match location {
        "header" => format!("header {name}"),
        other => format!("{other} parameter {name}"),
    }
}

/// The alternatives of a security requirement list: `A+B[scope]`, `""` for "no credentials".
fn security_alternatives(node: Option<&Value>) -> BTreeSet<String> {
    let Some(Value::Array(list)) = node else { return BTreeSet::new() };
    list.iter()
        .filter_map(Value::as_object)
        .map(|requirement| {
            let mut parts: Vec<String> = requirement
                .iter()
                .map(|(scheme, scopes)| {
                    let mut scopes: Vec<String> =
                        scopes.as_array().map(|s| s.iter().filter_map(Value::as_str).map(str::to_string).collect()).unwrap_or_default();
                    scopes.sort();
                    if scopes.is_empty() { scheme.clone() } else { format!("{scheme}[{}]", scopes.join(",")) }
                })
                .collect();
            parts.sort();
            parts.join("+")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_split_into_origin_and_base_path() {
        assert_eq!(split_server_url("https://api.vipps.no/epayment/"), ("https://api.vipps.no".into(), "/epayment".into()));
        assert_eq!(split_server_url("https://api.vipps.no"), ("https://api.vipps.no".into(), String::new()));
        assert_eq!(split_server_url("/v1"), (String::new(), "/v1".into()));
    }

    #[test]
    fn path_keys_ignore_parameter_names() {
        assert_eq!(erase_parameter_names("/epayment/v1/payments/{reference}/"), "/epayment/v1/payments/{}");
        assert_eq!(path_parameter_names("/a/{A}/b/{b}"), vec!["A".to_string(), "b".to_string()]);
    }
}
