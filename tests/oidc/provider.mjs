// A real OpenID provider for mcpgen's authorization tests: panva's oidc-provider (OpenID
// Certified), configured so that every kind of access token a resource server must accept or
// refuse comes from the provider itself, signed with its own keys.
//
//   node provider.mjs [--port N] [--exit-with-stdin]      (or OIDC_PORT; default: any free port)
//
// Prints one line, `issuer http://127.0.0.1:PORT`, once it listens on 127.0.0.1. Run it through
// scripts/oidc-provider.sh, which installs the pinned packages next to a copy of this file.
//
// What it serves (all on the one port):
// - the issuer http://127.0.0.1:PORT: discovery at /.well-known/openid-configuration (and at the
//   RFC 8414 location /.well-known/oauth-authorization-server), /jwks, /token (client
//   credentials and RFC 8693 token exchange), /token/introspection, /token/revocation;
// - a second issuer, http://127.0.0.1:PORT/other, with its own discovery (also at the RFC 8414
//   locations /.well-known/{oauth-authorization-server,openid-configuration}/other) and the
//   same keys: its tokens carry a valid signature and the wrong `iss`;
// - POST /__rotate[?retire=true], test-only: a new RSA key becomes the first (signing) key of
//   both issuers; `retire` also drops the older RSA keys from the JWKS. Answers
//   {"kid": NEW_KID, "kids": [every kid in the JWKS]}.
//
// Clients (secret_basic; secret "mcp-test-secret", scopes "pets:read pets:write admin") ask
// for `client_credentials` tokens with `resource=<the MCP server's URL>`; the client decides the
// kind of token, the resource becomes `aud` (RFC 8707):
//   mcp-test-client          JWT (typ at+jwt), RS256, one hour
//   mcp-test-client-es256    JWT, ES256
//   mcp-test-client-ps256    JWT, PS256
//   mcp-test-client-hs256    JWT, HS256 with a shared secret (no JWKS key verifies it)
//   mcp-test-client-opaque   opaque, for introspection
//   mcp-test-client-short    JWT that expires one second after it is issued
//   mcp-test-client-expired  JWT whose `exp` lies an hour in the past (beyond any leeway)
//   mcp-test-client-future   JWT whose `nbf` lies an hour in the future
// Without `resource` a token is opaque and has no audience.
// mcp-resource-server (secret "rs-secret") stands for the MCP server: it alone may introspect
// (opaque tokens: oidc-provider keeps no record of JWTs and answers unsupported_token_type),
// it may revoke, and it may exchange (RFC 8693) a valid access token of this issuer (JWT or
// opaque, `subject_token_type` access_token or jwt) for a JWT for another `resource`: `sub`
// is the subject token's, `act.sub` is mcp-resource-server (RFC 8693 section 4.1), `scope` is
// the requested scope (default: the subject token's) within the subject token's.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import { createLocalJWKSet, jwtVerify } from 'jose';
import Provider, { errors } from 'oidc-provider';
// The package's own in-memory adapter, made once per issuer and handed to each of its
// instances, so that opaque tokens outlive a key rotation (every instance would otherwise get
// a store of its own) and never cross from one issuer to the other.
import { createMemoryAdapter } from 'oidc-provider/lib/adapters/memory_adapter.js';

const SCOPES = 'pets:read pets:write admin';
const CLIENT_SECRET = 'mcp-test-secret';
const RS_CLIENT_ID = 'mcp-resource-server';
const RS_CLIENT_SECRET = 'rs-secret';
const HS256_SECRET = 'mcp-test-hs256-secret-at-least-32-bytes';
const OTHER_PATH = '/other';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

// The resource server configuration each client's tokens get, over the default (JWT, RS256,
// one hour).
const VARIANTS = {
  'mcp-test-client': {},
  'mcp-test-client-es256': { jwt: { sign: { alg: 'ES256' } } },
  'mcp-test-client-ps256': { jwt: { sign: { alg: 'PS256' } } },
  'mcp-test-client-hs256': { jwt: { sign: { alg: 'HS256', key: HS256_SECRET } } },
  'mcp-test-client-opaque': { accessTokenFormat: 'opaque' },
  'mcp-test-client-short': { accessTokenTTL: 1 },
  'mcp-test-client-expired': {},
  'mcp-test-client-future': {},
};

function argument(name) {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}

// ---- keys ----

const kid = (prefix) => `${prefix}-${randomBytes(6).toString('hex')}`;

function rsaKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: kid('rsa'), use: 'sig' };
}

function ecKey() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), kid: kid('ec'), use: 'sig' };
}

function publicKey({ d, p, q, dp, dq, qi, ...rest }) {
  return rest;
}

// The first RSA key signs RS256 and PS256 tokens, the EC key ES256 ones.
let keys = [rsaKey(), ecKey()];

// ---- configuration ----

function resourceServerInfo(_ctx, resource, client) {
  return {
    scope: SCOPES,
    audience: resource,
    accessTokenFormat: 'jwt',
    accessTokenTTL: 3600,
    jwt: { sign: { alg: 'RS256' } },
    ...VARIANTS[client.clientId],
  };
}

function clients() {
  const credentialsClient = (clientId) => ({
    client_id: clientId,
    client_secret: CLIENT_SECRET,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: SCOPES,
  });
  return [
    ...Object.keys(VARIANTS).map(credentialsClient),
    {
      client_id: RS_CLIENT_ID,
      client_secret: RS_CLIENT_SECRET,
      grant_types: ['client_credentials', TOKEN_EXCHANGE],
      response_types: [],
      redirect_uris: [],
      scope: SCOPES,
    },
  ];
}

// Claims that the format cannot express: backdated and postdated tokens, and the subject and
// actor of an exchanged token (set by the token exchange handler on the request's context).
function customizeJwt(ctx, token, jwt) {
  const now = Math.floor(Date.now() / 1000);
  if (token.clientId === 'mcp-test-client-expired') {
    jwt.payload.iat = now - 7200;
    jwt.payload.exp = now - 3600;
  }
  if (token.clientId === 'mcp-test-client-future') {
    jwt.payload.nbf = now + 3600;
  }
  if (ctx?.tokenExchange) {
    Object.assign(jwt.payload, ctx.tokenExchange);
  }
}

const adapters = new Map();

function configuration(issuer) {
  if (!adapters.has(issuer)) adapters.set(issuer, createMemoryAdapter());
  return {
    adapter: adapters.get(issuer),
    jwks: { keys },
    clients: clients(),
    scopes: ['openid', 'offline_access', ...SCOPES.split(' ')],
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        allowedPolicy: async (_ctx, client) => client.clientId === RS_CLIENT_ID,
      },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) =>
          client.clientId === RS_CLIENT_ID || client.clientId === token.clientId,
      },
      resourceIndicators: {
        enabled: true,
        getResourceServerInfo: async (ctx, resource, client) =>
          resourceServerInfo(ctx, resource, client),
      },
    },
    formats: { customizers: { jwt: customizeJwt } },
    // An exchanged opaque token tells its subject and actor through introspection.
    extraTokenClaims: async (ctx) => ctx?.tokenExchange,
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 3600,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 600,
    },
  };
}

// ---- RFC 8693 token exchange ----

// The subject token's claims when it is a valid, unexpired access token of `provider`.
async function subjectOf(provider, value) {
  if (value.split('.').length === 3) {
    const jwks = createLocalJWKSet({ keys: keys.map(publicKey) });
    try {
      const { payload } = await jwtVerify(value, jwks, {
        issuer: provider.issuer,
        typ: 'at+jwt',
        algorithms: ['RS256', 'PS256', 'ES256'],
      });
      return payload;
    } catch {
      return undefined;
    }
  }
  const token = (await provider.ClientCredentials.find(value))
    ?? (await provider.AccessToken.find(value));
  if (!token?.isValid) return undefined;
  return {
    ...token.extra,
    sub: token.extra?.sub ?? token.accountId ?? token.clientId,
    scope: token.scope,
    client_id: token.clientId,
  };
}

async function tokenExchange(ctx) {
  const { client, params, provider } = ctx.oidc;
  if (![ACCESS_TOKEN_TYPE, JWT_TOKEN_TYPE].includes(params.subject_token_type)) {
    throw new errors.InvalidRequest('subject_token_type must be an access token or a JWT');
  }
  if (params.requested_token_type && params.requested_token_type !== ACCESS_TOKEN_TYPE) {
    throw new errors.InvalidRequest('only access tokens can be requested');
  }
  if (params.actor_token) {
    throw new errors.InvalidRequest('actor_token is not supported');
  }
  if (!params.subject_token) {
    throw new errors.InvalidRequest('missing required parameter subject_token');
  }
  const subject = await subjectOf(provider, params.subject_token);
  if (!subject) {
    throw new errors.InvalidGrant('subject_token is invalid, expired or not of this issuer');
  }
  const resource = params.resource ?? params.audience;
  if (!resource) {
    throw new errors.InvalidTarget('resource (or audience) is required');
  }

  const held = new Set(subject.scope?.split(' ') ?? []);
  const requested = params.scope ? params.scope.split(' ') : [...held];
  const missing = requested.filter((scope) => !held.has(scope));
  if (missing.length) {
    throw new errors.InvalidScope(`the subject token does not hold ${missing.join(' ')}`);
  }

  const info = resourceServerInfo(ctx, resource, client);
  const token = new provider.ClientCredentials({ client });
  token.resourceServer = new provider.ResourceServer(resource, info);
  const allowed = token.resourceServer.scopes;
  token.scope = requested.filter((scope) => allowed.has(scope)).join(' ') || undefined;

  // RFC 8693 section 4.1: the acting party; an exchanged token's own actor nests inside.
  const act = { sub: client.clientId, ...(subject.act ? { act: subject.act } : {}) };
  ctx.tokenExchange = { sub: subject.sub, act };
  const value = await token.save();

  ctx.body = {
    access_token: value,
    issued_token_type: ACCESS_TOKEN_TYPE,
    token_type: 'Bearer',
    expires_in: token.expiration,
    scope: token.scope,
  };
}

// ---- the providers ----

function provider(issuer) {
  const instance = new Provider(issuer, configuration(issuer));
  instance.registerGrantType(TOKEN_EXCHANGE, tokenExchange, [
    'subject_token',
    'subject_token_type',
    'requested_token_type',
    'actor_token',
    'actor_token_type',
    'resource',
    'audience',
    'scope',
  ]);
  instance.on('server_error', (_ctx, error) => console.error('server_error', error));
  instance.on('grant.error', (_ctx, error) =>
    console.error(`token endpoint: ${error.error}: ${error.error_detail ?? error.error_description}`));
  return instance.callback();
}

// Both issuers share the keys, so both are rebuilt when the keys change. Tokens survive a
// rebuild: JWTs are self-contained and opaque ones live in the issuer's adapter.
function providers(issuer) {
  return { main: provider(issuer), other: provider(issuer + OTHER_PATH) };
}

function rotate(url, res) {
  const retire = ['1', 'true'].includes(url.searchParams.get('retire'));
  const key = rsaKey();
  keys = [key, ...keys.filter((k) => !(retire && k.kty === 'RSA'))];
  current = providers(issuerUrl);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ kid: key.kid, kids: keys.map((k) => k.kid) }));
}

const WELL_KNOWN = ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration'];

function route(req, res) {
  const url = new URL(req.url, issuerUrl);
  if (url.pathname === '/__rotate') {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    rotate(url, res);
    return;
  }
  // RFC 8414 section 3: the metadata of issuer https://host/path lies at
  // /.well-known/oauth-authorization-server/path; OpenID discovery's own location is
  // /path/.well-known/openid-configuration, the one oidc-provider serves.
  for (const prefix of WELL_KNOWN) {
    const rest = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : undefined;
    if (rest === '' || rest === OTHER_PATH) {
      req.url = `${rest}/.well-known/openid-configuration${url.search}`;
      break;
    }
  }
  if (req.url === OTHER_PATH || req.url.startsWith(`${OTHER_PATH}/`)
    || req.url.startsWith(`${OTHER_PATH}?`)) {
    // Mounted as Express and Koa's mount do it: oidc-provider reads its mount path from the
    // difference between originalUrl and url.
    req.originalUrl = req.url;
    req.url = req.url.slice(OTHER_PATH.length) || '/';
    if (req.url.startsWith('?')) req.url = `/${req.url}`;
    current.other(req, res);
    return;
  }
  current.main(req, res);
}

let issuerUrl;
let current;

const server = createServer((req, res) => route(req, res));
const port = Number(argument('--port') ?? process.env.OIDC_PORT ?? 0);
server.listen(port, '127.0.0.1', () => {
  issuerUrl = `http://127.0.0.1:${server.address().port}`;
  current = providers(issuerUrl);
  process.stdout.write(`issuer ${issuerUrl}\n`);
});

// A test that dies without killing its provider closes the provider's stdin: exit then too.
if (process.argv.includes('--exit-with-stdin')) {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => process.exit(0));
}
