//! `proxy-config secret` (spec §3.6, §4.3).

use super::cert::{CertInfo, format_utc, parse_pem};
use super::{Options, Output, RenderError, section_url, table};
use crate::base64;
use crate::render::gojson::to_go_json;
use crate::render::goyaml::to_yaml;
use crate::render::tabwriter::Params;
use crate::xds::Any;
use crate::xds::admin::{ConfigDump, SecretEntry};
use crate::xds::core::DataSource;

/// One row: a secret (or one trust domain of a SPIFFE validator).
struct Item {
    name: String,
    state: &'static str,
    cert: Option<CertInfo>,
    trust_domain: String,
}

pub(super) fn render(
    dump: &ConfigDump,
    opts: &Options,
    all: bool,
    out: &mut String,
) -> Result<(), RenderError> {
    let section = section!(dump, SecretsConfigDump, else NoSection)?;
    if opts.output != Output::Short {
        let value = serde_json::to_value(section)?;
        // No Structs in secrets: jsonpb's layout equals the plain one here.
        out.push_str(&if opts.output == Output::Json {
            to_go_json(&value)
        } else {
            to_yaml(&value)
        });
        out.push('\n');
        return Ok(());
    }
    if section.dynamic_active_secrets.is_empty() && section.dynamic_warming_secrets.is_empty() {
        out.push_str("No active or warming secrets found.\n");
        return Ok(());
    }
    let items: Vec<Item> = section
        .dynamic_warming_secrets
        .iter()
        .flat_map(|s| items(s, "WARMING"))
        .chain(
            section
                .dynamic_active_secrets
                .iter()
                .flat_map(|s| items(s, "ACTIVE")),
        )
        .collect();
    if items.is_empty() {
        out.push_str("No secret items to show.\n");
        return Ok(());
    }
    let with_domain = items.iter().all(|i| !i.trust_domain.is_empty());
    let mut header: Vec<String> = [
        "RESOURCE NAME",
        "TYPE",
        "STATUS",
        "VALID CERT",
        "SERIAL NUMBER",
        "NOT AFTER",
        "NOT BEFORE",
    ]
    .map(String::from)
    .to_vec();
    if with_domain {
        header.push("TRUST DOMAIN".into());
    }
    let mut rows = vec![header];
    let prefix = if all { "secret/" } else { "" };
    for item in items {
        let mut row = vec![format!("{prefix}{}", item.name)];
        match &item.cert {
            Some(c) => row.extend([
                if c.is_ca { "CA" } else { "Cert Chain" }.to_string(),
                item.state.to_string(),
                (c.not_before < opts.now && opts.now < c.not_after).to_string(),
                c.serial.clone(),
                format_utc(c.not_after),
                format_utc(c.not_before),
            ]),
            None => row.extend([
                String::new(),
                item.state.to_string(),
                "false".into(),
                String::new(),
                String::new(),
                String::new(),
            ]),
        }
        if with_domain {
            row.push(item.trust_domain);
        }
        rows.push(row);
    }
    table(&rows, Params::padding(5), out);
    Ok(())
}

fn inline(d: Option<&DataSource>) -> Option<Vec<u8>> {
    let bytes = base64::decode(d?.inline_bytes.as_deref()?)?;
    (!bytes.is_empty()).then_some(bytes)
}

fn items(entry: &SecretEntry, state: &'static str) -> Vec<Item> {
    let secret = match &entry.secret {
        Some(Any::Secret(s)) => Some(&**s),
        _ => None,
    };
    let item = |pem: Option<Vec<u8>>, trust_domain: String| {
        let cert = pem.as_deref().and_then(parse_pem);
        let trust_domain = if trust_domain.is_empty() {
            cert.as_ref()
                .map(|c| c.trust_domain.clone())
                .unwrap_or_default()
        } else {
            trust_domain
        };
        Item {
            name: entry.name.clone(),
            state,
            cert,
            trust_domain,
        }
    };
    let Some(secret) = secret else {
        return vec![item(None, String::new())];
    };
    if let Some(pem) = inline(
        secret
            .tls_certificate
            .as_ref()
            .and_then(|t| t.certificate_chain.as_ref()),
    ) {
        return vec![item(Some(pem), String::new())];
    }
    let validation = secret.validation_context.as_ref();
    if let Some(pem) = inline(validation.and_then(|v| v.trusted_ca.as_ref())) {
        return vec![item(Some(pem), String::new())];
    }
    let spiffe = validation
        .and_then(|v| v.custom_validator_config.as_ref())
        .and_then(|c| c.typed_config.as_ref());
    if let Some(Any::SpiffeCertValidatorConfig(config)) = spiffe {
        return config
            .trust_domains
            .iter()
            .map(|td| Item {
                name: secret.name.clone(),
                ..item(inline(td.trust_bundle.as_ref()), td.name.clone())
            })
            .collect();
    }
    vec![item(None, String::new())]
}
