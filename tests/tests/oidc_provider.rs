//! The OpenID provider the authorization tests run against (tests/oidc, panva's oidc-provider)
//! does what the helper in tests/src/oidc.rs promises: discovery, JWT access tokens bound to a
//! resource (RFC 8707), both key types in the JWKS, key rotation, introspection of opaque
//! tokens (RFC 7662), token exchange (RFC 8693), and the bad tokens a resource server must
//! refuse. JWTs are decoded by hand; their signatures are the resource server's business.

use std::time::{SystemTime, UNIX_EPOCH};

use mcpgen_tests::oidc::{
    CLIENT_ID, CLIENT_SECRET, OidcProvider, RS_CLIENT_ID, RS_CLIENT_SECRET, TOKEN_EXCHANGE_GRANT,
    TokenKind, decode_jwt,
};
use serde_json::Value;

const MCP: &str = "http://127.0.0.1:8080/mcp";
const UPSTREAM: &str = "https://api.example.com/v1";

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The `kid`s of the JWKS's keys of type `kty`.
fn kids(jwks: &Value, kty: &str) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .expect("a JWKS has keys")
        .iter()
        .filter(|k| k["kty"] == kty)
        .map(|k| k["kid"].as_str().expect("every key has a kid").to_owned())
        .collect()
}

#[tokio::test]
async fn discovery_names_the_endpoints() {
    let op = OidcProvider::start().await;
    let issuer = op.issuer();
    assert!(issuer.starts_with("http://127.0.0.1:"), "{issuer}");

    let doc = op.discovery().await;
    assert_eq!(doc["issuer"], issuer);
    assert_eq!(doc["jwks_uri"], op.jwks_uri());
    assert_eq!(doc["token_endpoint"], op.token_endpoint());
    assert_eq!(doc["introspection_endpoint"], op.introspection_endpoint());
    assert_eq!(doc["revocation_endpoint"], op.revocation_endpoint());
    let grants: Vec<&str> = doc["grant_types_supported"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(grants.contains(&"client_credentials"), "{grants:?}");
    assert!(grants.contains(&TOKEN_EXCHANGE_GRANT), "{grants:?}");
    for scope in ["pets:read", "pets:write", "admin"] {
        assert!(
            doc["scopes_supported"]
                .as_array()
                .unwrap()
                .contains(&scope.into()),
            "{scope}"
        );
    }

    // RFC 8414's location serves the same metadata; the second issuer's lies under its path.
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let get = |url: String| {
        let http = http.clone();
        async move {
            http.get(&url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let rfc8414 = get(op.url("/.well-known/oauth-authorization-server")).await;
    assert_eq!(rfc8414["issuer"], issuer);
    assert_eq!(rfc8414["jwks_uri"], op.jwks_uri());
    let other = op.other_issuer();
    for path in [
        "/.well-known/oauth-authorization-server/other",
        "/.well-known/openid-configuration/other",
        "/other/.well-known/openid-configuration",
    ] {
        let doc = get(op.url(path)).await;
        assert_eq!(doc["issuer"], other, "{path}");
        assert_eq!(doc["token_endpoint"], format!("{other}/token"), "{path}");
        assert_eq!(doc["jwks_uri"], format!("{other}/jwks"), "{path}");
    }
}

#[tokio::test]
async fn a_token_for_a_resource_is_a_jwt_for_that_audience() {
    let op = OidcProvider::start().await;
    let jwks = op.jwks().await;
    let rsa = kids(&jwks, "RSA");
    let ec = kids(&jwks, "EC");
    assert_eq!((rsa.len(), ec.len()), (1, 1), "{jwks}");
    for key in jwks["keys"].as_array().unwrap() {
        assert_eq!(key["use"], "sig", "{key}");
        assert!(
            key.get("d").is_none(),
            "the JWKS holds public keys only: {key}"
        );
    }
    let ec_key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kty"] == "EC")
        .unwrap();
    assert_eq!(ec_key["crv"], "P-256");

    let answer = op
        .request_token(TokenKind::Rs256, Some(MCP), Some("pets:read admin"))
        .await
        .unwrap();
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer["expires_in"], 3600);
    assert_eq!(answer["scope"], "pets:read admin");
    let (header, claims) = decode_jwt(answer["access_token"].as_str().unwrap());
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["kid"], rsa[0].as_str());
    assert_eq!(claims["iss"], op.issuer());
    assert_eq!(claims["aud"], MCP);
    assert_eq!(claims["scope"], "pets:read admin");
    assert_eq!(claims["client_id"], CLIENT_ID);
    assert_eq!(claims["sub"], CLIENT_ID);
    assert!(claims["jti"].is_string());
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    assert!((iat - now()).abs() <= 5, "iat {iat}");
    assert_eq!(exp - iat, 3600);

    // Another resource, another audience (a token a resource server for MCP must refuse).
    let (_, elsewhere) = decode_jwt(&op.token(UPSTREAM, "pets:read").await);
    assert_eq!(elsewhere["aud"], UPSTREAM);
    assert_eq!(elsewhere["scope"], "pets:read");

    // Scopes the provider does not know are dropped; no resource gives an opaque token.
    let unknown = op
        .request_token(TokenKind::Rs256, Some(MCP), Some("pets:read root"))
        .await
        .unwrap();
    assert_eq!(unknown["scope"], "pets:read");
    let plain = op
        .request_token(TokenKind::Rs256, None, None)
        .await
        .unwrap();
    assert_eq!(
        plain["access_token"].as_str().unwrap().split('.').count(),
        1
    );
}

#[tokio::test]
async fn every_kind_of_bad_token_comes_from_the_provider() {
    let op = OidcProvider::start().await;
    let jwks = op.jwks().await;
    let (rsa, ec) = (kids(&jwks, "RSA"), kids(&jwks, "EC"));

    let (header, claims) = decode_jwt(&op.es256_token(MCP, "pets:read").await);
    assert_eq!(
        (header["alg"].as_str(), header["kid"].as_str()),
        (Some("ES256"), Some(ec[0].as_str()))
    );
    assert_eq!(claims["aud"], MCP);

    let (header, _) = decode_jwt(&op.token_of(TokenKind::Ps256, MCP, "pets:read").await);
    assert_eq!(
        (header["alg"].as_str(), header["kid"].as_str()),
        (Some("PS256"), Some(rsa[0].as_str()))
    );

    let (header, claims) = decode_jwt(&op.hs256_token(MCP, "pets:read").await);
    assert_eq!(header["alg"], "HS256");
    assert!(header.get("kid").is_none(), "{header}");
    assert_eq!(claims["iss"], op.issuer());

    let (_, claims) = decode_jwt(&op.expired_token(MCP, "pets:read").await);
    assert!(claims["exp"].as_i64().unwrap() <= now() - 3500, "{claims}");
    assert_eq!(claims["aud"], MCP);

    let (_, claims) = decode_jwt(&op.not_yet_valid_token(MCP, "pets:read").await);
    assert!(claims["nbf"].as_i64().unwrap() >= now() + 3500, "{claims}");

    let (_, claims) = decode_jwt(&op.short_lived_token(MCP, "pets:read").await);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        1
    );

    // The second issuer signs with the same keys: only `iss` gives it away.
    let (header, claims) = decode_jwt(&op.other_issuer_token(MCP, "pets:read").await);
    assert_eq!(claims["iss"], op.other_issuer());
    assert_eq!(header["kid"], rsa[0].as_str());
    assert_eq!(claims["aud"], MCP);

    // A second provider is an issuer of its own, with keys of its own.
    let stranger = OidcProvider::start().await;
    assert_ne!(stranger.issuer(), op.issuer());
    let (header, claims) = decode_jwt(&stranger.token(MCP, "pets:read").await);
    assert_eq!(claims["iss"], stranger.issuer());
    assert!(!rsa.contains(&header["kid"].as_str().unwrap().to_owned()));
}

#[tokio::test]
async fn rotation_signs_with_a_new_key_that_the_jwks_lists() {
    let op = OidcProvider::start().await;
    let before = op.token(MCP, "pets:read").await;
    let old_kid = decode_jwt(&before).0["kid"].as_str().unwrap().to_owned();
    let opaque = op.opaque_token(MCP, "pets:read").await;

    let new_kid = op.rotate_keys().await;
    assert_ne!(new_kid, old_kid);
    let (header, claims) = decode_jwt(&op.token(MCP, "pets:read").await);
    assert_eq!(header["kid"], new_kid.as_str());
    assert_eq!(claims["iss"], op.issuer());
    let jwks = op.jwks().await;
    assert_eq!(kids(&jwks, "RSA"), [new_kid.as_str(), old_kid.as_str()]);
    assert_eq!(kids(&jwks, "EC").len(), 1);
    // The second issuer rotates with the first; opaque tokens outlive the rotation.
    assert_eq!(
        decode_jwt(&op.other_issuer_token(MCP, "").await).0["kid"],
        new_kid.as_str()
    );
    assert_eq!(op.introspect(&opaque).await["active"], true);

    let newest = op.rotate_keys_retiring().await;
    let jwks = op.jwks().await;
    assert_eq!(kids(&jwks, "RSA"), [newest.as_str()]);
    assert_eq!(
        decode_jwt(&op.token(MCP, "").await).0["kid"],
        newest.as_str()
    );
}

#[tokio::test]
async fn opaque_tokens_are_introspected_by_the_resource_server_only() {
    let op = OidcProvider::start().await;
    let token = op.opaque_token(MCP, "pets:read pets:write").await;
    assert_eq!(token.split('.').count(), 1, "opaque: {token}");

    let answer = op.introspect(&token).await;
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["scope"], "pets:read pets:write");
    assert_eq!(answer["aud"], MCP);
    assert_eq!(answer["iss"], op.issuer());
    assert_eq!(answer["client_id"], TokenKind::Opaque.client_id());
    assert_eq!(answer["token_type"], "Bearer");
    assert!(answer["exp"].as_i64().unwrap() > now());

    // Other clients learn nothing; unknown tokens are inactive; JWTs cannot be introspected.
    let stranger = op
        .post_form(
            &op.introspection_endpoint(),
            (CLIENT_ID, CLIENT_SECRET),
            &[("token", &token)],
        )
        .await
        .unwrap();
    assert_eq!(stranger, serde_json::json!({"active": false}));
    let jwt = op.token(MCP, "pets:read").await;
    let refused = op
        .post_form(
            &op.introspection_endpoint(),
            (RS_CLIENT_ID, RS_CLIENT_SECRET),
            &[("token", &jwt)],
        )
        .await
        .unwrap_err();
    assert_eq!(
        (refused.status, refused.error()),
        (400, "unsupported_token_type")
    );
    assert_eq!(op.introspect("no-such-token").await["active"], false);

    // A token of the other issuer is unknown here.
    let other = op
        .request_token_at(
            &op.other_issuer(),
            TokenKind::Opaque,
            Some(MCP),
            Some("pets:read"),
        )
        .await
        .unwrap();
    assert_eq!(
        op.introspect(other["access_token"].as_str().unwrap()).await["active"],
        false
    );

    op.revoke(&token).await;
    assert_eq!(op.introspect(&token).await["active"], false);
}

#[tokio::test]
async fn token_exchange_keeps_the_subject_and_names_the_actor() {
    let op = OidcProvider::start().await;
    let subject = op.token(MCP, "pets:read pets:write").await;

    let answer = op.exchange_with(&subject, UPSTREAM, None).await.unwrap();
    assert_eq!(
        answer["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer["scope"], "pets:read pets:write");
    let (header, claims) = decode_jwt(answer["access_token"].as_str().unwrap());
    assert_eq!(header["alg"], "RS256");
    assert_eq!(claims["aud"], UPSTREAM);
    assert_eq!(claims["iss"], op.issuer());
    assert_eq!(claims["sub"], CLIENT_ID);
    assert_eq!(claims["act"], serde_json::json!({"sub": RS_CLIENT_ID}));
    assert_eq!(claims["client_id"], RS_CLIENT_ID);
    assert_eq!(claims["scope"], "pets:read pets:write");

    // Narrower scopes, an opaque subject token, and a chain of actors.
    let narrow = op
        .exchange_with(&subject, UPSTREAM, Some("pets:read"))
        .await
        .unwrap();
    assert_eq!(
        decode_jwt(narrow["access_token"].as_str().unwrap()).1["scope"],
        "pets:read"
    );
    let opaque = op.opaque_token(MCP, "admin").await;
    let (_, claims) = decode_jwt(&op.exchange(&opaque, UPSTREAM).await);
    assert_eq!(claims["sub"], TokenKind::Opaque.client_id());
    assert_eq!(claims["scope"], "admin");
    let (_, chained) = decode_jwt(
        &op.exchange(&op.exchange(&subject, MCP).await, UPSTREAM)
            .await,
    );
    assert_eq!(chained["sub"], CLIENT_ID);
    assert_eq!(
        chained["act"],
        serde_json::json!({"sub": RS_CLIENT_ID, "act": {"sub": RS_CLIENT_ID}})
    );

    // Refusals: more scope than the subject holds, a subject that is no longer valid or is
    // another issuer's, and a client not allowed to exchange.
    let wider = op
        .exchange_with(&subject, UPSTREAM, Some("admin"))
        .await
        .unwrap_err();
    assert_eq!((wider.status, wider.error()), (400, "invalid_scope"));
    for bad in [
        op.expired_token(MCP, "pets:read").await,
        op.other_issuer_token(MCP, "pets:read").await,
        op.hs256_token(MCP, "pets:read").await,
        format!("{subject}x"),
    ] {
        let refused = op.exchange_with(&bad, UPSTREAM, None).await.unwrap_err();
        assert_eq!(
            (refused.status, refused.error()),
            (400, "invalid_grant"),
            "{bad}"
        );
    }
    let not_allowed = op
        .post_form(
            &op.token_endpoint(),
            (CLIENT_ID, CLIENT_SECRET),
            &[
                ("grant_type", TOKEN_EXCHANGE_GRANT),
                ("subject_token", &subject),
                (
                    "subject_token_type",
                    "urn:ietf:params:oauth:token-type:access_token",
                ),
                ("resource", UPSTREAM),
            ],
        )
        .await
        .unwrap_err();
    assert_eq!(not_allowed.status, 400, "{:?}", not_allowed.body);
}
