//! `proxy-config ecds` (spec §3.8, §4.4).

use serde::Serialize;

use super::{Options, Output, RenderError, encode, table};
use crate::render::gosort::sort_slice;
use crate::render::tabwriter::Params;
use crate::xds::Any;
use crate::xds::admin::{ConfigDump, EcdsFilterConfig};
use crate::xds::core::TypedExtensionConfig;

/// Every `EcdsConfigDump` section merged, as istioctl prints it.
#[derive(Serialize)]
struct Merged<'a> {
    #[serde(rename = "ecdsFilters", skip_serializing_if = "Vec::is_empty")]
    ecds_filters: Vec<&'a EcdsFilterConfig>,
}

pub(super) fn render(
    dump: &ConfigDump,
    opts: &Options,
    out: &mut String,
) -> Result<(), RenderError> {
    let filters: Vec<&EcdsFilterConfig> = dump
        .configs
        .iter()
        .filter_map(|a| match a {
            Any::EcdsConfigDump(s) => Some(s.ecds_filters.iter()),
            _ => None,
        })
        .flatten()
        .collect();
    if opts.output != Output::Short {
        return encode(
            &Merged {
                ecds_filters: filters,
            },
            opts.output,
            out,
        );
    }
    let mut items: Vec<(String, &str)> = filters
        .iter()
        .filter_map(|f| f.ecds_filter.as_ref())
        .filter_map(|a| match a {
            Any::TypedExtensionConfig(t) => Some(extension_row(t)),
            _ => None,
        })
        .map(|(url, name)| {
            (
                url.trim_start_matches("type.googleapis.com/").to_string(),
                name,
            )
        })
        .collect();
    sort_slice(
        &mut items,
        |a, b| if a.0 != b.0 { a.0 < b.0 } else { a.1 < b.1 },
    );
    let mut rows = vec![vec!["ECDS NAME".to_string(), "TYPE".to_string()]];
    rows.extend(
        items
            .into_iter()
            .map(|(url, name)| vec![name.to_string(), url]),
    );
    table(&rows, Params::padding(5), out);
    Ok(())
}

fn extension_row(t: &TypedExtensionConfig) -> (String, &str) {
    let url = t
        .typed_config
        .as_ref()
        .map(|a| a.type_url().into_owned())
        .unwrap_or_default();
    (url, &t.name)
}
