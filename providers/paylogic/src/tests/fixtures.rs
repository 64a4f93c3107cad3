//! The provider against the recorded exchanges of `fixtures/paylogic/` (through the core's
//! `FixtureTransport`) and against scripted vendor answers.

use super::*;

#[tokio::test]
async fn fixtures_map_through_the_provider() {
    let p = fixture_provider(fixtures(&["get_requested"]), "en");
    let r = p.get(&VendorRef::new(DOC_UID)).await.unwrap();
    assert_eq!((r.status, r.lines.len()), (RefundStatus::Pending, 3));

    let p = fixture_provider(fixtures(&["get_completed"]), "de");
    let r = p
        .get(&VendorRef::new("b7e4c2a19d8f4e3ab6c5d4e3f2a1b0c9"))
        .await
        .unwrap();
    assert_eq!(r.status, RefundStatus::Succeeded);
    assert_eq!(r.lines[0].description.as_deref(), Some("Wochenendpass"));

    let p = fixture_provider(fixtures(&["get_failed"]), "en");
    let r = p
        .get(&VendorRef::new("c1d2e3f4a5b64c7d8e9f0a1b2c3d4e5f"))
        .await
        .unwrap();
    assert_eq!(
        (r.status, r.vendor_status.as_deref()),
        (RefundStatus::Failed, Some("failed / direct: failed"))
    );

    let p = fixture_provider(fixtures(&["get_unknown_status"]), "en");
    let r = p
        .get(&VendorRef::new("d4c3b2a1f0e94d8c7b6a5f4e3d2c1b0a"))
        .await
        .unwrap();
    assert_eq!(
        (r.status, r.vendor_status.as_deref()),
        (
            RefundStatus::Unknown,
            Some("on_hold / direct: not_initiated")
        )
    );

    let p = fixture_provider(fixtures(&["list_one_page"]), "en");
    let listed = p.list(&order(DOC_ORDER)).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].target.order.as_deref(), Some(DOC_ORDER));
}

#[tokio::test]
async fn recorded_failures_become_the_right_errors() {
    let cases: [(Arc<FixtureTransport>, &str, ErrorKind); 5] = [
        (fixtures(&["get_401"]), DOC_UID, ErrorKind::Unauthorized),
        (
            fixtures(&["get_404"]),
            "0000000000000000000000000000dead",
            ErrorKind::NotFound,
        ),
        (fixtures(&["get_503_html"]), DOC_UID, ErrorKind::Unavailable),
        (
            fixtures(&["get_truncated_json"]),
            DOC_UID,
            ErrorKind::BadResponse,
        ),
        (fixtures(&["get_reset"]), DOC_UID, ErrorKind::Unavailable),
    ];
    for (t, uid, kind) in cases {
        let e = fixture_provider(t, "en")
            .get(&VendorRef::new(uid))
            .await
            .unwrap_err();
        assert_eq!(e.kind, kind, "{uid}: {e:?}");
    }
    let e = fixture_provider(fixtures(&["list_429"]), "en")
        .list(&order(DOC_ORDER))
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind, e.retry_after),
        (
            ErrorKind::RateLimited,
            Some(std::time::Duration::from_secs(30))
        )
    );
    let e = fixture_provider(fixtures(&["list_next_foreign_origin"]), "en")
        .list(&order(DOC_ORDER))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadResponse);
    assert!(
        e.message.contains("https://elsewhere.example"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn bad_references_and_targets_never_reach_the_vendor() {
    let t = fixtures(&[]);
    let p = fixture_provider(t.clone(), "en");
    for bad in ["", "../orders/x", "a/b", "4221 f0"] {
        let e = p.get(&VendorRef::new(bad)).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound, "{bad}");
    }
    let e = p.list(&Target::default()).await.unwrap_err();
    assert_eq!(e.pointer.as_deref(), Some("/target/order"));
    let with_ticket = Target {
        tickets: vec!["t1".into()],
        ..order(DOC_ORDER)
    };
    // The gateway refuses other target fields from the declared shape, before the provider.
    let e = p
        .capabilities()
        .check_list(&with_ticket, "paylogic")
        .unwrap_err();
    assert_eq!(e.pointer.as_deref(), Some("/target/tickets"));
    let e = p.list(&order("not an order")).await.unwrap_err();
    assert_eq!(e.pointer.as_deref(), Some("/target/order"));
    assert!(t.sent().is_empty());
}

fn page(next: Option<String>) -> Result<VendorResponse, TransportError> {
    let links = match next {
        Some(href) => json!({"next": {"href": href}}),
        None => json!({}),
    };
    Ok(refund_provider::sandbox::json_response(
        200,
        &json!({"_links": links, "_embedded": {"shop:refunds": []}}),
    ))
}

#[tokio::test]
async fn pagination_cannot_loop_or_run_away() {
    let looping = Scripted::new(|r| page(Some(r.url.clone())));
    let e = fixture_provider(looping.clone(), "en")
        .list(&order(DOC_ORDER))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadResponse);
    assert_eq!(looping.urls().len(), 1);

    let counter = std::sync::atomic::AtomicUsize::new(0);
    let endless = Scripted::new(move |_| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        page(Some(format!("/refunds?page={}", n + 2)))
    });
    let e = fixture_provider(endless.clone(), "en")
        .list(&order(DOC_ORDER))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadResponse);
    assert_eq!(endless.urls().len(), MAX_PAGES);

    let wrong_shape = Scripted::new(|_| {
        Ok(refund_provider::sandbox::json_response(
            200,
            &json!({"_embedded": {"shop:refunds": {"uid": 1}}}),
        ))
    });
    let e = fixture_provider(wrong_shape, "en")
        .list(&order(DOC_ORDER))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadResponse);
}
