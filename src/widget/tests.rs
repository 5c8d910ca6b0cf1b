use super::*;

fn form(fields: &[(FieldKind, bool, Option<&str>)], consent: Option<&str>) -> PrechatForm {
    PrechatForm {
        fields: fields.iter().map(|(k, r, l)| Field { kind: *k, required: *r, label: l.map(str::to_string) }).collect(),
        consent: consent.map(str::to_string),
    }
}

#[test]
fn appearance_validation() {
    assert!(Appearance::default().validate().is_ok());
    let bad = [
        r##"{"primary_color":"blue"}"##,
        r##"{"text_color":"#12345"}"##,
        r##"{"offset_x":201}"##,
        r##"{"language":"de"}"##,
        r##"{"texts":{"de":{"greeting":"Hallo"}}}"##,
        r##"{"texts":{"en":{"launcher":"a\u0007b"}}}"##,
    ];
    for b in bad {
        let a: Appearance = serde_json::from_str(b).unwrap();
        assert!(a.validate().is_err(), "{b}");
    }
    assert!(serde_json::from_str::<Appearance>(r#"{"colour":"x"}"#).is_err(), "unknown fields refused");
    let ok: Appearance = serde_json::from_str(r##"{"texts":{"ru":{"greeting":"Здравствуйте!\nЧем помочь?"}},"position":"left"}"##).unwrap();
    assert!(ok.validate().is_ok());
}

#[test]
fn texts_follow_the_language() {
    let mut a = Appearance::default();
    a.texts.insert("ru".into(), Texts { greeting: "Здравствуйте".into(), ..Default::default() });
    a.texts.insert("en".into(), Texts { greeting: "Hello there".into(), launcher: "Chat".into(), ..Default::default() });
    let cases = [
        (Some("ru-RU"), "ru", "Здравствуйте"),
        (Some("en-GB"), "en", "Hello there"),
        (Some("pl"), "pl", ""),
        (Some("de"), "en", "Hello there"),
        (None, "en", "Hello there"),
    ];
    for (browser, lang, greeting) in cases {
        let r = a.resolve(browser);
        assert_eq!((r.lang.as_str(), r.texts.greeting.as_str()), (lang, greeting), "{browser:?}");
    }
    a.language = "ru".into();
    assert_eq!(a.resolve(Some("pl")).lang, "ru", "a forced language wins over the browser");
}

#[test]
fn sites() {
    assert_eq!(site_key("").unwrap(), "");
    assert_eq!(site_key("https://Shop.example/path?x").unwrap(), "https://shop.example");
    assert!(site_key("shop.example").is_err());
    assert!(site_key("javascript:alert(1)").is_err());
}

#[test]
fn form_validation() {
    use FieldKind::*;
    assert!(form(&[(Name, true, None), (Email, false, None), (Custom, true, Some("Size"))], Some("I agree")).validate().is_ok());
    assert!(form(&[(Custom, true, None)], None).validate().is_err(), "custom without a label");
    assert!(form(&[(Name, true, Some("x"))], None).validate().is_err(), "a label on a built-in field");
    assert!(form(&[(Name, true, None), (Name, false, None)], None).validate().is_err(), "a field twice");
    assert!(form(&[(Custom, true, Some("a")), (Custom, true, Some("a"))], None).validate().is_err());
    assert!(form(&[], Some("  ")).validate().is_err(), "empty consent text");
}

#[test]
fn answers_against_the_form() {
    use FieldKind::*;
    let f = form(&[(Name, true, None), (Email, true, None), (Phone, false, None), (Custom, true, Some("Order size"))], Some("I agree"));
    let none = Known::default();
    let e = check_answers(&f, &Answers::default(), &none).unwrap_err();
    assert_eq!(e.kind.code(), "prechat_required");
    assert!(e.message.contains("name, email, Order size, consent"), "{}", e.message);
    let mut a = Answers {
        name: Some("  Ann  ".into()),
        email: Some("ann@example.com".into()),
        order: Some("not asked".into()),
        consent: true,
        ..Default::default()
    };
    a.custom.insert("Order size".into(), "XL".into());
    a.custom.insert("Not a question".into(), "x".into());
    let kept = check_answers(&f, &a, &none).unwrap();
    assert_eq!(kept.name.as_deref(), Some("Ann"));
    assert_eq!(kept.order, None, "only the form's fields are kept");
    assert_eq!(kept.custom.len(), 1);
    let bad_email = Answers { email: Some("nope".into()), ..a.clone() };
    assert_eq!(check_answers(&f, &bad_email, &none).unwrap_err().kind.code(), "invalid_input");
    // A verified visitor who gave name, email and consent before answers only the rest.
    let known = Known { name: Some("Ann".into()), email: Some("ann@example.com".into()), phone: None, consent: true };
    let mut only_custom = Answers::default();
    only_custom.custom.insert("Order size".into(), "M".into());
    let kept = check_answers(&f, &only_custom, &known).unwrap();
    assert_eq!((kept.email.as_deref(), kept.consent), (Some("ann@example.com"), true));
}

#[test]
fn identity_signatures() {
    let secret = "s3cret";
    let now_ms = 1_800_000_000_000;
    let ts = now_ms / 1000 - 60;
    let claim = |id: &str, email: Option<&str>, name: Option<&str>, ts: i64, sig: String| IdentityClaim {
        id: id.into(),
        email: email.map(str::to_string),
        name: name.map(str::to_string),
        ts,
        sig,
    };
    let good = claim("42", Some("ann@example.com"), Some("Ann"), ts, sign_identity(secret, "42", "ann@example.com", "Ann", ts));
    assert_eq!(
        verify_identity(secret, &good, now_ms),
        Ok(Verified { id: "42".into(), name: Some("Ann".into()), email: Some("ann@example.com".into()) })
    );
    // The documented payload, as the PHP/Node/Python examples build it.
    assert_eq!(identity_payload("42", "ann@example.com", "Ann", ts), format!("42\nann@example.com\nAnn\n{ts}"));
    let upper = IdentityClaim { sig: good.sig.to_uppercase(), ..good.clone() };
    assert!(verify_identity(secret, &upper, now_ms).is_ok(), "hex in either case");
    let cases = [
        (IdentityClaim { email: Some("eve@example.com".into()), ..good.clone() }, Rejection::BadSignature),
        (IdentityClaim { id: "43".into(), ..good.clone() }, Rejection::BadSignature),
        (IdentityClaim { sig: "00".repeat(32), ..good.clone() }, Rejection::BadSignature),
        (IdentityClaim { sig: "abc".into(), ..good.clone() }, Rejection::Malformed),
        (IdentityClaim { id: "4\n2".into(), ..good.clone() }, Rejection::Malformed),
        (IdentityClaim { id: " ".into(), ..good.clone() }, Rejection::Malformed),
    ];
    for (c, want) in cases {
        assert_eq!(verify_identity(secret, &c, now_ms), Err(want), "{c:?}");
    }
    assert_eq!(verify_identity("other", &good, now_ms), Err(Rejection::BadSignature));
    let old = now_ms / 1000 - IDENTITY_MAX_AGE_S - 1;
    let expired = claim("42", None, None, old, sign_identity(secret, "42", "", "", old));
    assert_eq!(verify_identity(secret, &expired, now_ms), Err(Rejection::Expired));
    let ahead = now_ms / 1000 + IDENTITY_FUTURE_S + 1;
    let future = claim("42", None, None, ahead, sign_identity(secret, "42", "", "", ahead));
    assert_eq!(verify_identity(secret, &future, now_ms), Err(Rejection::FromTheFuture));
    let bare = claim("42", None, None, ts, sign_identity(secret, "42", "", "", ts));
    assert_eq!(verify_identity(secret, &bare, now_ms).unwrap().email, None);
}
