// Real OpenID providers for the SSO suites, on loopback: oidc-provider (panva) instances for a generic
// provider (with a key rotation), Google-like (hd) and Entra-like tenants behind a multi-tenant front whose
// discovery issuer is the `{tenantid}` template, plus a hand-written hostile provider whose ID tokens are
// wrong on purpose. ESM only (oidc-provider 9 is), so the suite starts this file as a child process.
//
// argv[2]: JSON { port, clientId, clientSecret, redirectUris: [..], tenants: [tid, ..] }
// Control (JSON POST /control): { accounts: { login: claims }, tenant, genericKeys: 'a'|'b', hostile: mode }
import { createServer } from 'node:http';
import { createSign, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import Provider from 'oidc-provider';

const opts = JSON.parse(process.argv[2]);
const base = `http://127.0.0.1:${opts.port}`;
const accounts = new Map();
const state = { tenant: opts.tenants[0], generic: 'a', hostile: 'ok', hostileLogin: null };
const stats = { jwks: {} };

function rsaKey() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomBytes(8).toString('hex');
  return {
    kid,
    privateKey,
    privateJwk: { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' },
    publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' },
  };
}

const client = {
  client_id: opts.clientId,
  client_secret: opts.clientSecret,
  redirect_uris: opts.redirectUris,
  token_endpoint_auth_method: 'client_secret_post',
  response_types: ['code'],
  grant_types: ['authorization_code'],
};

function provider(issuer, keys, statsKey) {
  const p = new Provider(issuer, {
    clients: [client],
    jwks: { keys: keys.map((k) => k.privateJwk) },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    // Email and the provider-specific claims in the ID token itself, as Entra and Google put them.
    conformIdTokenClaims: false,
    claims: {
      openid: ['sub', 'tid', 'hd', 'xms_edov'],
      email: ['email', 'email_verified'],
      profile: ['given_name', 'family_name', 'name'],
    },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    async findAccount(_ctx, id) {
      const claims = accounts.get(id);
      if (!claims) return undefined;
      return { accountId: id, claims: () => ({ sub: id, ...claims }) };
    },
    // No consent screen: the tests sign in, they do not review grants.
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
  });
  p.on('server_error', (_ctx, err) => console.error(`${issuer}: ${err.stack}`));
  p.statsKey = statsKey;
  return p;
}

const genericKeys = { a: rsaKey(), b: rsaKey() };
const generic = {
  a: provider(`${base}/generic`, [genericKeys.a], 'generic'),
  b: provider(`${base}/generic`, [genericKeys.b], 'generic'),
};
const google = provider(`${base}/google`, [rsaKey()], 'google');
// Entra's tenants share one signing key set, as Entra's common keys are.
const entraKeys = [rsaKey()];
const tenants = new Map(opts.tenants.map((tid) => [tid, provider(`${base}/${tid}/v2.0`, entraKeys, 'entra')]));

// The hostile provider: a plain OIDC code flow whose ID token is wrong in the way `state.hostile` says.
const hostileKey = rsaKey();
const evilKey = rsaKey();
const hostileCodes = new Map();
let lastNonce = null;
const b64 = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
function sign(payload, key, kid) {
  const input = `${b64({ alg: 'RS256', typ: 'JWT', kid })}.${b64(payload)}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(key.privateKey).toString('base64url')}`;
}

function hostileToken(flow) {
  const now = Math.floor(Date.now() / 1000);
  const mode = state.hostile;
  const claims = {
    iss: `${base}/hostile`,
    aud: mode === 'other-aud' ? 'some-other-client' : opts.clientId,
    sub: flow.login,
    iat: mode === 'expired' ? now - 7200 : now,
    exp: mode === 'expired' ? now - 3600 : now + 300,
    nonce: mode === 'replay-nonce' ? flow.previousNonce : flow.nonce,
    ...accounts.get(flow.login),
  };
  if (mode === 'other-key') return sign(claims, evilKey, hostileKey.kid);
  if (mode === 'unknown-kid') return sign(claims, evilKey, evilKey.kid);
  return sign(claims, hostileKey, hostileKey.kid);
}

const json = (res, status, body) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};
const readBody = (req) =>
  new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });

async function hostile(req, res, path) {
  const url = new URL(req.url, base);
  if (path === '/.well-known/openid-configuration') {
    return json(res, 200, {
      issuer: `${base}/hostile`,
      authorization_endpoint: `${base}/hostile/auth`,
      token_endpoint: `${base}/hostile/token`,
      jwks_uri: `${base}/hostile/jwks`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      code_challenge_methods_supported: ['S256'],
    });
  }
  if (path === '/jwks') {
    stats.jwks.hostile = (stats.jwks.hostile ?? 0) + 1;
    return json(res, 200, { keys: [hostileKey.publicJwk] });
  }
  if (path === '/auth') {
    const q = url.searchParams;
    const code = randomUUID();
    hostileCodes.set(code, { nonce: q.get('nonce'), previousNonce: lastNonce, login: state.hostileLogin });
    lastNonce = q.get('nonce');
    const back = new URL(q.get('redirect_uri'));
    back.searchParams.set('code', code);
    back.searchParams.set('state', q.get('state'));
    res.writeHead(302, { location: back.href });
    return res.end();
  }
  if (path === '/token') {
    const body = new URLSearchParams((await readBody(req)).toString());
    const flow = hostileCodes.get(body.get('code'));
    hostileCodes.delete(body.get('code'));
    if (!flow) return json(res, 400, { error: 'invalid_grant' });
    return json(res, 200, {
      access_token: randomUUID(),
      token_type: 'Bearer',
      expires_in: 300,
      id_token: hostileToken(flow),
    });
  }
  json(res, 404, { error: 'not_found' });
}

// Entra's /organizations front: the templated issuer, the authorization request sent on to the tenant the
// test chose (Entra picks it from the account), and the token request answered by the tenant that issued
// the code.
const front = `/organizations/v2.0`;
async function entraFront(req, res, path) {
  if (path === '/.well-known/openid-configuration') {
    const doc = await tenantDiscovery(opts.tenants[0]);
    return json(res, 200, {
      ...doc,
      issuer: `${base}/{tenantid}/v2.0`,
      authorization_endpoint: `${base}${front}/auth`,
      token_endpoint: `${base}${front}/token`,
      // Entra does not send `iss` in the authorization response.
      authorization_response_iss_parameter_supported: false,
    });
  }
  if (path.startsWith('/auth')) {
    const url = new URL(req.url, base);
    res.writeHead(302, { location: `${base}/${state.tenant}/v2.0/auth${url.search}` });
    return res.end();
  }
  if (path === '/token') {
    const body = await readBody(req);
    let last;
    for (const tid of opts.tenants) {
      last = await fetch(`${base}/${tid}/v2.0/token`, {
        method: 'POST',
        headers: { 'content-type': req.headers['content-type'] },
        body,
      });
      if (last.status === 200) break;
    }
    res.writeHead(last.status, { 'content-type': 'application/json' });
    return res.end(await last.text());
  }
  json(res, 404, { error: 'not_found' });
}

// A tenant's own document, as Entra's: no `iss` in authorization responses (RFC 9207 is not supported there).
async function tenantDiscovery(tid) {
  const raw = await (await fetch(`${base}/_raw/${tid}/v2.0/.well-known/openid-configuration`)).text();
  return {
    ...JSON.parse(raw.replaceAll(`${base}/_raw/`, `${base}/`)),
    authorization_response_iss_parameter_supported: false,
  };
}

function mount(p, prefix, req, res, { stripIss = false } = {}) {
  if (req.url.startsWith(`${prefix}/jwks`)) stats.jwks[p.statsKey] = (stats.jwks[p.statsKey] ?? 0) + 1;
  req.originalUrl = req.url;
  req.url = req.url.slice(prefix.length) || '/';
  if (stripIss) {
    const setHeader = res.setHeader.bind(res);
    res.setHeader = (name, value) => {
      if (String(name).toLowerCase() === 'location' && typeof value === 'string' && value.includes('iss=')) {
        const u = new URL(value, base);
        u.searchParams.delete('iss');
        value = u.href;
      }
      return setHeader(name, value);
    };
  }
  return p.callback()(req, res);
}

const server = createServer(async (req, res) => {
  try {
    const path = req.url.split('?')[0];
    if (path === '/control' && req.method === 'POST') {
      const body = JSON.parse((await readBody(req)).toString() || '{}');
      for (const [login, claims] of Object.entries(body.accounts ?? {})) accounts.set(login, claims);
      if (body.tenant) state.tenant = body.tenant;
      if (body.genericKeys) state.generic = body.genericKeys;
      if (body.hostile) state.hostile = body.hostile;
      if (body.hostileLogin) state.hostileLogin = body.hostileLogin;
      return json(res, 200, { state });
    }
    if (path === '/stats') return json(res, 200, stats);
    if (path.startsWith('/generic')) return mount(generic[state.generic], '/generic', req, res);
    if (path.startsWith('/google')) return mount(google, '/google', req, res);
    if (path.startsWith('/hostile')) return hostile(req, res, path.slice('/hostile'.length));
    if (path.startsWith(front)) return entraFront(req, res, path.slice(front.length));
    for (const [tid, p] of tenants) {
      if (path.startsWith(`/_raw/${tid}/v2.0`)) return mount(p, `/_raw/${tid}/v2.0`, req, res);
      if (path === `/${tid}/v2.0/.well-known/openid-configuration`) return json(res, 200, await tenantDiscovery(tid));
      if (path.startsWith(`/${tid}/v2.0`)) return mount(p, `/${tid}/v2.0`, req, res, { stripIss: true });
    }
    json(res, 404, { error: 'not_found' });
  } catch (e) {
    console.error(e);
    if (!res.headersSent) json(res, 500, { error: String(e) });
  }
});
server.listen(opts.port, '127.0.0.1', () => console.log(`READY ${base}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
