//! What a refund lookup's cache entry holds: the vendor's refunds, which of them the
//! gateway made, and their JSON rendered once per entry.

use std::sync::OnceLock;

use bytes::Bytes;
use refund_provider::Refund;

/// A refund the gateway made, found in a vendor answer: its ledger id and its client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerId {
    pub id: String,
    pub client: String,
}

/// One lookup's answer: the vendor's refunds, and for each the gateway's own id if it made it.
#[derive(Debug)]
pub struct Listing {
    pub refunds: Vec<Refund>,
    pub ledger_ids: Vec<Option<LedgerId>>,
    rendered: OnceLock<Vec<Bytes>>,
    document: OnceLock<Bytes>,
}

impl Listing {
    pub fn new(refunds: Vec<Refund>, ledger_ids: Vec<Option<LedgerId>>) -> Listing {
        Listing {
            refunds,
            ledger_ids,
            rendered: OnceLock::new(),
            document: OnceLock::new(),
        }
    }

    /// The listing document `{"data":[...]}` of `rendered`, made once per entry.
    pub fn document(&self) -> Bytes {
        self.document
            .get_or_init(|| {
                let rendered = self.rendered();
                let mut out =
                    Vec::with_capacity(rendered.iter().map(|r| r.len() + 1).sum::<usize>() + 10);
                out.extend_from_slice(b"{\"data\":[");
                for (i, bytes) in rendered.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(bytes);
                }
                out.extend_from_slice(b"]}");
                Bytes::from(out)
            })
            .clone()
    }

    /// Each refund as JSON, without its vendor payload and under its vendor id, rendered
    /// once per entry: answers served from the cache copy these bytes instead of cloning
    /// and serializing the refunds again.
    pub fn rendered(&self) -> &[Bytes] {
        self.rendered.get_or_init(|| {
            self.refunds
                .iter()
                .map(|refund| {
                    let mut refund = refund.clone();
                    refund.raw = None;
                    Bytes::from(serde_json::to_vec(&refund).unwrap_or_default())
                })
                .collect()
        })
    }
}
