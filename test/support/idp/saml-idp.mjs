// A real SAML 2.0 identity provider for the SSO suites, on loopback, made with samlify: it reads the
// service's AuthnRequest (HTTP-Redirect) and answers with a signed response in an auto-posting form
// (HTTP-POST), signed with a key pair and self-signed certificate made at start. Modes make the response
// wrong on purpose (unsigned, tampered, wrapped, signed by another key, for another audience, expired,
// answering another request).
//
// argv[2]: JSON { port, spEntityId, acsUrl }
// Control (JSON POST /control): { mode, user: { email, ... } }. GET /cert: the signing certificate (PEM).
// GET /last: the last response sent ({ SAMLResponse, RelayState }), for replay tests.
import { createServer } from 'node:http';
import * as samlify from 'samlify';
import selfsigned from 'selfsigned';

const saml = samlify.default ?? samlify;
const opts = JSON.parse(process.argv[2]);
const base = `http://127.0.0.1:${opts.port}`;
saml.setSchemaValidator({ validate: () => Promise.resolve('skipped') });

const make = () =>
  selfsigned.generate([{ name: 'commonName', value: 'test-idp' }], { keySize: 2048, days: 2, algorithm: 'sha256' });
const [good, evil] = await Promise.all([make(), make()]);

const POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';
const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const idpFor = (keys) =>
  saml.IdentityProvider({
    entityID: `${base}/metadata`,
    signingCert: keys.cert,
    privateKey: keys.private,
    singleSignOnService: [{ Binding: REDIRECT, Location: `${base}/sso` }],
    nameIDFormat: ['urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'],
    wantAuthnRequestsSigned: false,
    requestSignatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  });
const spFor = (entityID, { assertion = true, message = false } = {}) =>
  saml.ServiceProvider({
    entityID,
    assertionConsumerService: [{ Binding: POST, Location: opts.acsUrl }],
    wantAssertionsSigned: assertion,
    wantMessageSigned: message,
  });
const idp = idpFor(good);
const evilIdp = idpFor(evil);

const state = { mode: 'assertion', user: { email: 'user@saml.example' } };
let last = null;

const RealDate = Date;
class HourAgo extends RealDate {
  constructor(...args) {
    if (args.length) super(...args);
    else super(RealDate.now() - 3_600_000);
  }
  static now() {
    return RealDate.now() - 3_600_000;
  }
}

const ASSERTION = /<saml:Assertion\b[\s\S]*<\/saml:Assertion>/;

async function respond(query) {
  const mode = state.mode;
  const sp =
    mode === 'other-audience'
      ? spFor('https://another-service.example/metadata')
      : spFor(opts.spEntityId, { assertion: mode !== 'response', message: mode === 'response' });
  const parsed = await idp.parseLoginRequest(sp, 'redirect', { query });
  const requestInfo =
    mode === 'other-request' ? { extract: { request: { id: '_not_a_request_of_the_service' } } } : parsed;
  const signer = mode === 'other-key' ? evilIdp : idp;
  if (mode === 'expired') globalThis.Date = HourAgo;
  let context;
  try {
    ({ context } = await signer.createLoginResponse(sp, requestInfo, 'post', state.user));
  } finally {
    globalThis.Date = RealDate;
  }
  let xml = Buffer.from(context, 'base64').toString('utf8');
  if (mode === 'unsigned') xml = xml.replace(/<ds:Signature\b[\s\S]*?<\/ds:Signature>/g, '');
  if (mode === 'tampered') xml = xml.replaceAll(state.user.email, state.tamperTo);
  if (mode === 'wrapped') {
    // Signature wrapping: the signed assertion hidden in an Extensions element, and in its place an
    // assertion for another user that carries the original's signature (whose reference still names
    // the original's ID).
    const original = ASSERTION.exec(xml)[0];
    const forged = original.replaceAll(state.user.email, state.tamperTo).replace(/\bID="([^"]+)"/, 'ID="_forged$1"');
    xml = xml.replace(original, `<samlp:Extensions>${original}</samlp:Extensions>${forged}`);
  }
  return { SAMLResponse: Buffer.from(xml).toString('base64'), RelayState: query.RelayState ?? '' };
}

const escape = (s) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
const readBody = (req) =>
  new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString()));
  });

const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url, base);
    if (url.pathname === '/control' && req.method === 'POST') {
      Object.assign(state, JSON.parse((await readBody(req)) || '{}'));
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify(state));
    }
    if (url.pathname === '/cert') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end(good.cert);
    }
    if (url.pathname === '/evil-cert') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end(evil.cert);
    }
    if (url.pathname === '/last') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify(last));
    }
    if (url.pathname === '/sso') {
      const query = Object.fromEntries(url.searchParams);
      const answer = await respond(query);
      last = answer;
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end(
        `<!doctype html><html><body onload="document.forms[0].submit()">` +
          `<form method="post" action="${escape(opts.acsUrl)}">` +
          `<input type="hidden" name="SAMLResponse" value="${escape(answer.SAMLResponse)}">` +
          `<input type="hidden" name="RelayState" value="${escape(answer.RelayState)}">` +
          `<button type="submit">Continue</button></form></body></html>`,
      );
    }
    res.writeHead(404);
    res.end();
  } catch (e) {
    console.error(e);
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(String(e));
  }
});
server.listen(opts.port, '127.0.0.1', () => console.log(`READY ${base}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
