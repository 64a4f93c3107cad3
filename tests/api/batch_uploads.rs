//! Stadium-sized batches over real HTTP: CSV and NDJSON uploads streamed into the ledger,
//! refused whole with the line, column and pointer of each fault (a missing column, an
//! unknown provider on line 40,001, a target twice), 413 past 100,000 items with nothing
//! left behind, idempotent replays, and the `items.csv` export of a worked batch.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{unique, with_storage, ApiResponse, TestGateway};

/// A gateway with one in-process Fourvenues sandbox instance `fv`, paced at `rate`/s.
pub fn sandbox_config(rate: u32) -> String {
    format!(
        "[providers.fv]\nkind = \"fourvenues\"\nsandbox = true\n\
         rate_limit = {{ per_second = {rate}, burst = 1, max_wait = \"2s\" }}\n"
    )
}

pub const CSV_HEADER: &str = "provider,ticket,amount,currency,reason,metadata.row\n";

/// `rows` CSV rows refunding 10.00 EUR each for distinct tickets (the Fourvenues sandbox
/// makes any `bulk-` ticket on first use).
pub fn csv_rows(prefix: &str, rows: usize) -> String {
    let mut csv = String::with_capacity(rows * 64 + CSV_HEADER.len());
    csv.push_str(CSV_HEADER);
    for i in 0..rows {
        csv.push_str(&format!(
            "fv,bulk-{prefix}-{i},10.00,EUR,event cancelled,{i}\n"
        ));
    }
    csv
}

pub async fn upload(
    gw: &TestGateway,
    content_type: &str,
    body: impl Into<reqwest::Body>,
    key: &str,
    bearer: Option<&str>,
) -> ApiResponse {
    let mut request = gw
        .request(reqwest::Method::POST, "/v1/refund-batches")
        .header("content-type", content_type)
        .header("idempotency-key", key)
        .body(body);
    if let Some(bearer) = bearer {
        request = request.bearer_auth(bearer);
    }
    gw.send(request).await
}

/// Polls a batch until it is no longer open.
pub async fn until_done(gw: &TestGateway, id: &str, limit: Duration) -> Value {
    let started = Instant::now();
    loop {
        let report = gw.get(&format!("/v1/refund-batches/{id}")).await.body;
        if report["status"] != "open" {
            return report;
        }
        assert!(started.elapsed() < limit, "batch still open: {report}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn errors(r: &ApiResponse) -> Vec<Value> {
    r.body["errors"].as_array().cloned().unwrap_or_default()
}

async fn listed(gw: &TestGateway) -> Vec<Value> {
    gw.get("/v1/refund-batches").await.body["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_csv_batch_is_streamed_worked_and_exported() {
    for database in crate::support::ledger_databases().await {
        streamed_worked_and_exported(&database).await;
    }
}

async fn streamed_worked_and_exported(database: &str) {
    let gw = TestGateway::start(&with_storage(&sandbox_config(50), database)).await;
    let csv = "provider,ticket,amount,currency,reason,metadata.row\n\
               fv,bulk-csv-a,10.00,EUR,event cancelled,1\n\
               fv,bulk-csv-b,5,EUR,,2\n\
               fv, bulk-csv-c ,,,,3\n";
    let key = unique("csv");
    let created = upload(&gw, "text/csv", csv, &key, None).await;
    assert_eq!(created.status, 202, "{}", created.text);
    assert_eq!(created.body["item_count"], 3, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_string();

    // The same upload again under its key is the same batch; another body is refused.
    let replay = upload(&gw, "text/csv", csv, &key, None).await;
    assert_eq!(
        (replay.status, replay.header("idempotent-replayed")),
        (202, Some("true")),
        "{}",
        replay.text
    );
    assert_eq!(replay.body["id"], id.as_str());
    let other = upload(&gw, "text/csv", csv.replace("csv-c", "csv-d"), &key, None).await;
    assert_eq!(
        (other.status, other.code()),
        (422, "idempotency_key_reused"),
        "{}",
        other.text
    );
    assert_eq!(listed(&gw).await.len(), 1, "one batch stored");

    let report = until_done(&gw, &id, Duration::from_secs(20)).await;
    let export = gw.get(&format!("/v1/refund-batches/{id}/items.csv")).await;
    assert_eq!(export.status, 200);
    assert!(export
        .header("content-type")
        .unwrap()
        .starts_with("text/csv"));
    let text = export.text;
    // Fourvenues refunds whole euros only: the row asking for everything refundable
    // (16.10 EUR) fails, with the reason, and nothing is rounded.
    assert_eq!(
        (
            report["counts"]["succeeded"].as_u64(),
            report["counts"]["failed"].as_u64()
        ),
        (Some(2), Some(1)),
        "{report}\n{text}"
    );
    assert_eq!(report["refunded"]["EUR"], "15.00", "{report}");
    let mut reader = csv_async::AsyncReaderBuilder::new().create_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .await
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(
        header.join(","),
        "seq,provider,order,payment,ticket,venue,booking,event,refund_id,amount,currency,status,vendor_reference,failure_reason"
    );
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut record = csv_async::StringRecord::new();
    while reader.read_record(&mut record).await.unwrap() {
        rows.push(record.iter().map(str::to_string).collect());
    }
    assert_eq!(rows.len(), 3, "{text}");
    for (row, (ticket, amount, status)) in rows.iter().zip([
        ("bulk-csv-a", "10.00", "succeeded"),
        ("bulk-csv-b", "5.00", "succeeded"),
        ("bulk-csv-c", "", "failed"),
    ]) {
        assert_eq!((row[1].as_str(), row[4].as_str()), ("fv", ticket), "{text}");
        assert!(row[8].starts_with("rfg_"), "a refund id: {text}");
        assert_eq!(row[9], amount, "{text}");
        assert_eq!(row[11], status, "{text}");
        if status == "succeeded" {
            assert_eq!(row[10], "EUR", "{text}");
            assert!(!row[12].is_empty(), "the vendor's reference: {text}");
            assert!(row[13].is_empty(), "{text}");
        } else {
            assert!(
                row[13].contains("whole EUR"),
                "the failure's reason: {text}"
            );
        }
    }
}

#[tokio::test]
async fn an_ndjson_batch_is_taken_and_its_bad_lines_named() {
    let gw = TestGateway::start(&sandbox_config(50)).await;
    let line = |t: &str| {
        json!({"provider": "fv", "target": {"tickets": [t]}, "amount": {"value": "5.00", "currency": "EUR"}})
            .to_string()
    };
    let good = format!("{}\n\n{}\n", line("bulk-nd-1"), line("bulk-nd-2"));
    let created = upload(&gw, "application/x-ndjson", good, &unique("nd"), None).await;
    assert_eq!(
        (created.status, created.body["item_count"].as_u64()),
        (202, Some(2)),
        "{}",
        created.text
    );

    let bad = format!(
        "{}\n{{\"provider\": \"fv\", \"target\": \n{}\n{}\n",
        line("bulk-nd-3"),
        json!({"provider": "fv", "target": {"tickets": ["bulk-nd-4"]}, "amount": {"value": "5.555", "currency": "EUR"}}),
        line("bulk-nd-3"),
    );
    let r = upload(&gw, "application/x-ndjson", bad, &unique("nd"), None).await;
    assert_eq!(
        (r.status, r.code()),
        (422, "validation_failed"),
        "{}",
        r.text
    );
    let errors = errors(&r);
    assert_eq!(errors.len(), 3, "{}", r.text);
    assert_eq!(
        (errors[0]["line"].as_u64(), errors[0]["code"].as_str()),
        (Some(2), Some("malformed_json")),
        "{}",
        r.text
    );
    assert!(errors[0]["column"].as_str().is_some(), "{}", r.text);
    assert_eq!(
        (errors[1]["line"].as_u64(), errors[1]["pointer"].as_str()),
        (Some(3), Some("/items/2/amount/value")),
        "{}",
        r.text
    );
    assert_eq!(
        (errors[2]["line"].as_u64(), errors[2]["code"].as_str()),
        (Some(4), Some("duplicate_target")),
        "{}",
        r.text
    );
    assert_eq!(
        listed(&gw).await.len(),
        1,
        "the refused upload left nothing"
    );
}

#[tokio::test]
async fn a_csv_missing_a_column_is_refused_at_its_header() {
    let gw = TestGateway::start(&sandbox_config(50)).await;
    for (csv, column, code) in [
        (
            "ticket,amount,currency\nt-1,10.00,EUR\n",
            "provider",
            "missing_column",
        ),
        (
            "provider,amount,currency\nfv,10.00,EUR\n",
            "order",
            "missing_column",
        ),
        (
            "provider,ticket,amount\nfv,t-1,10.00\n",
            "currency",
            "missing_column",
        ),
        (
            "provider,ticket,seat\nfv,t-1,12A\n",
            "seat",
            "unknown_column",
        ),
        (
            "provider,ticket,ticket\nfv,t-1,t-2\n",
            "ticket",
            "duplicate_column",
        ),
    ] {
        let r = upload(&gw, "text/csv", csv, &unique("hdr"), None).await;
        assert_eq!(r.status, 422, "{csv}: {}", r.text);
        let e = &errors(&r)[0];
        assert_eq!(
            (e["line"].as_u64(), e["column"].as_str(), e["code"].as_str()),
            (Some(1), Some(column), Some(code)),
            "{csv}: {}",
            r.text
        );
    }
    // A row short of a cell, and a cell left empty that the canonical body needs.
    let csv = "provider,ticket,amount,currency\nfv,t-1,10.00,EUR\nfv,t-2\n,t-3,10.00,EUR\nfv,t-4,10.00,\n";
    let r = upload(&gw, "text/csv", csv, &unique("row"), None).await;
    let faults: Vec<(u64, Option<String>, String)> = errors(&r)
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["column"].as_str().map(str::to_string),
                e["pointer"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = [
        (3, None, "/items/1"),
        (4, Some("provider"), "/items/2/provider"),
        (5, Some("currency"), "/items/3/amount/currency"),
    ];
    assert_eq!(
        faults,
        expected.map(|(l, c, p)| (l, c.map(str::to_string), p.to_string())),
        "{}",
        r.text
    );
    assert!(listed(&gw).await.is_empty());
}

#[tokio::test]
async fn an_unknown_provider_on_line_40001_refuses_the_whole_upload() {
    let gw = TestGateway::start(&sandbox_config(50)).await;
    let mut csv = csv_rows("line", 39_999);
    csv.push_str("nope,line-last,10.00,EUR,event cancelled,x\n");
    let r = upload(&gw, "text/csv", csv, &unique("big"), None).await;
    assert_eq!(
        (r.status, r.code()),
        (422, "validation_failed"),
        "{}",
        r.text
    );
    assert_eq!(r.body["error_count"], 1, "{}", r.text);
    let e = &errors(&r)[0];
    assert_eq!(
        (
            e["line"].as_u64(),
            e["column"].as_str(),
            e["pointer"].as_str(),
            e["code"].as_str()
        ),
        (
            Some(40_001),
            Some("provider"),
            Some("/items/39999/provider"),
            Some("unknown_provider")
        ),
        "{}",
        r.text
    );
    assert!(listed(&gw).await.is_empty(), "nothing half-accepted");
    let worked = gw.get("/v1/refunds?provider=fv").await;
    assert_eq!(worked.body["data"], json!([]), "{}", worked.text);
}

#[tokio::test]
async fn a_target_twice_is_named_by_both_lines() {
    let gw = TestGateway::start(&sandbox_config(50)).await;
    let csv = "provider,ticket,amount,currency\nfv,dup-1,10.00,EUR\nfv,dup-2,10.00,EUR\nfv,dup-1,10.00,EUR\n";
    let r = upload(&gw, "text/csv", csv, &unique("dup"), None).await;
    assert_eq!(r.status, 422, "{}", r.text);
    let e = &errors(&r)[0];
    assert_eq!(
        (
            e["line"].as_u64(),
            e["column"].as_str(),
            e["pointer"].as_str(),
            e["code"].as_str()
        ),
        (
            Some(4),
            Some("ticket"),
            Some("/items/2/target"),
            Some("duplicate_target")
        ),
        "{}",
        r.text
    );
    assert!(
        e["detail"].as_str().unwrap().contains("line 2"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn an_upload_past_100000_items_gets_413_with_the_limit() {
    // 100,001 rows take a debug build ~18 s to read on a loaded 2-core machine: the default
    // 30 s request timeout is not what this test is about.
    let gw = TestGateway::start(&format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nrequest_timeout = \"120s\"\n{}",
        sandbox_config(50)
    ))
    .await;
    let r = upload(
        &gw,
        "text/csv",
        csv_rows("max", 100_001),
        &unique("max"),
        None,
    )
    .await;
    assert_eq!((r.status, r.code()), (413, "too_many_items"), "{}", r.text);
    assert_eq!(r.body["max_items"], 100_000, "{}", r.text);
    assert!(
        r.body["detail"].as_str().unwrap().contains("100000"),
        "{}",
        r.text
    );
    assert!(listed(&gw).await.is_empty(), "nothing half-accepted");
    let r = upload(&gw, "text/plain", "provider\n", &unique("type"), None).await;
    assert_eq!(
        (r.status, r.code()),
        (415, "unsupported_media_type"),
        "{}",
        r.text
    );
    let r = upload(&gw, "text/csv", CSV_HEADER, &unique("empty"), None).await;
    assert_eq!(
        (r.status, r.body["pointer"].as_str()),
        (422, Some("/items")),
        "{}",
        r.text
    );
}

/// Cells a client or a vendor wrote that a spreadsheet would run as a formula are exported
/// behind a `'`, so opening `items.csv` runs nothing; the text is otherwise kept whole.
#[tokio::test]
async fn exported_cells_that_look_like_formulas_are_made_inert() {
    let gw = TestGateway::start(&sandbox_config(50)).await;
    let tickets = [
        "=HYPERLINK(\"http://example.invalid\",\"x\")",
        "@SUM(A1:A2)",
        "+1-2",
        "-3",
        "bulk-inert-plain",
    ];
    let mut csv = CSV_HEADER.to_string();
    for (i, ticket) in tickets.iter().enumerate() {
        let cell = format!("\"{}\"", ticket.replace('"', "\"\""));
        csv.push_str(&format!("fv,{cell},10.00,EUR,event cancelled,{i}\n"));
    }
    let created = upload(&gw, "text/csv", csv, &unique("inert"), None).await;
    assert_eq!(created.status, 202, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_string();
    until_done(&gw, &id, Duration::from_secs(20)).await;

    let export = gw.get(&format!("/v1/refund-batches/{id}/items.csv")).await;
    assert_eq!(export.status, 200);
    let mut reader = csv_async::AsyncReaderBuilder::new().create_reader(export.text.as_bytes());
    let ticket_column = reader
        .headers()
        .await
        .unwrap()
        .iter()
        .position(|h| h == "ticket")
        .unwrap();
    let mut exported = Vec::new();
    let mut record = csv_async::StringRecord::new();
    while reader.read_record(&mut record).await.unwrap() {
        exported.push(record[ticket_column].to_string());
    }
    let expected: Vec<String> = tickets
        .iter()
        .map(|t| {
            if t.starts_with("bulk-") {
                t.to_string()
            } else {
                format!("'{t}")
            }
        })
        .collect();
    assert_eq!(exported, expected, "{}", export.text);
}
