// Test-only OpenID provider for pam_ssooidc's tests: panva's oidc-provider
// (an OpenID Certified implementation) with the device authorization grant,
// over HTTPS on 127.0.0.1 only.
//
//   node server.mjs CONFIG.json
//
// CONFIG.json (written by tests/providers/providers.py):
//   cert, key        PEM paths of the server certificate (made at test time)
//   port             TCP port, 0 = any free one
//   port_file        where the chosen port is written once listening
//   issuer_path      "" or a path such as "/oidc" (the issuer is then
//                    https://127.0.0.1:PORT/oidc and every route sits under it)
//   device_ttl       seconds a device code lives (oidc-provider's ttl.DeviceCode)
//   users            { name: { password, groups: [..], email? } }
//   clients          oidc-provider client metadata, used as given
//   control_token    bearer token for the test-only control endpoints
//   keys_file        where the current public JWKS is written (for tests)
//
// The device flow's user-code and confirmation pages are oidc-provider's own.
// Login and consent are interaction pages in this file: oidc-provider ships
// only "devInteractions" for those, which accept any login without a
// password, so a real password check needs our own (the documented way:
// provider.interactionDetails / provider.interactionFinished).
//
// Test-only control endpoints (Authorization: Bearer CONTROL_TOKEN):
//   POST /_test/rotate?keep_old=0|1  new RSA and EC signing keys with new kids;
//        the old keys are dropped (or kept, after the new ones, for
//        verification only) and the provider instance is rebuilt around the
//        new key set. Grants, sessions and codes live in oidc-provider's
//        process-wide memory store and survive.
//   POST /_test/config?device_ttl=N  device codes made from now on live N s
//        (the provider instance is rebuilt, as for a rotation).
//   GET  /_test/jwks   the private-less current JWKS, the same as jwks_uri.
//   GET  /_test/wire   the last 2000 requests: [{seq, conn, method, path}], conn a
//        TCP connection's number (counts connections at the server: the
//        benchmark measures the module without its debug line).

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';
import { parse as parseQuery } from 'node:querystring';

import Provider from 'oidc-provider';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const issuerPath = (config.issuer_path || '').replace(/\/+$/, '');

function log(...args) {
  console.log(new Date().toISOString(), ...args);
}

// ---------------------------------------------------------------- keys
function newKeys() {
  const stamp = Date.now().toString(36);
  const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return [
    {
      ...rsa.privateKey.export({ format: 'jwk' }),
      kid: `rsa-${stamp}-${crypto.randomBytes(4).toString('hex')}`,
      alg: 'RS256',
      use: 'sig',
    },
    {
      ...ec.privateKey.export({ format: 'jwk' }),
      kid: `ec-${stamp}-${crypto.randomBytes(4).toString('hex')}`,
      alg: 'ES256',
      use: 'sig',
    },
  ];
}

function publicJwks(keys) {
  const priv = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi']);
  return {
    keys: keys.map((k) => Object.fromEntries(Object.entries(k).filter(([n]) => !priv.has(n)))),
  };
}

// ---------------------------------------------------------------- accounts
const users = config.users || {};

async function findAccount(ctx, sub) {
  const u = users[sub];
  if (!u) return undefined;
  return {
    accountId: sub,
    async claims() {
      const c = {
        sub,
        preferred_username: sub,
        name: u.name || sub,
        groups: Array.isArray(u.groups) ? u.groups : [],
      };
      if (u.email) {
        c.email = u.email;
        c.email_verified = true;
      }
      return c;
    },
  };
}

// ---------------------------------------------------------------- provider
let port = 0;
let signingKeys = newKeys();
let deviceTtl = config.device_ttl || 600;
// One set of cookie keys for the process: sessions survive a rebuild.
const cookieKeys = [crypto.randomBytes(32).toString('hex')];
let provider;
let handler;

function build(keys) {
  const issuer = `https://127.0.0.1:${port}${issuerPath}`;
  const p = new Provider(issuer, {
    clients: config.clients,
    jwks: { keys },
    findAccount,
    claims: {
      openid: ['sub'],
      profile: ['preferred_username', 'name'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    scopes: ['openid', 'offline_access', 'profile', 'email', 'groups'],
    // With the default (true) the ID token of a token-endpoint grant carries
    // only sub: scope claims go to userinfo. The module reads the ID token.
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: false },
      deviceFlow: { enabled: true },
      revocation: { enabled: true },
    },
    ttl: {
      DeviceCode: deviceTtl,
      IdToken: 3600,
      AccessToken: 3600,
    },
    cookies: { keys: cookieKeys },
    interactions: {
      url(ctx, interaction) {
        return `${issuerPath}/interaction/${interaction.uid}`;
      },
    },
    pkce: { required: () => false },
    renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = `<!DOCTYPE html><html><head><title>oops! something went wrong</title></head><body>
<h1>oops! something went wrong</h1>
${Object.entries(out).map(([k, v]) => `<pre><strong>${esc(k)}</strong>: ${esc(String(v))}</pre>`).join('\n')}
</body></html>`;
    },
  });
  p.on('server_error', (ctx, err) => log('server_error', err));
  return p;
}

// ---------------------------------------------------------------- pages
function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${esc(title)}</title></head>
<body><h1>${esc(title)}</h1>
${body}
</body></html>`;
}

function loginPage(uid, clientId, error) {
  return page('Sign-in', `${error ? `<p class="error">${esc(error)}</p>` : ''}
<p>Sign in to continue to <strong>${esc(clientId)}</strong></p>
<form id="login" method="post" action="${issuerPath}/interaction/${esc(uid)}/login" autocomplete="off">
<input type="text" name="login" placeholder="Username" autofocus required/>
<input type="password" name="password" placeholder="Password" required/>
<button type="submit">Sign-in</button>
</form>
<a href="${issuerPath}/interaction/${esc(uid)}/abort">[ Cancel ]</a>`);
}

function consentPage(uid, clientId, details, account) {
  const scopes = (details.missingOIDCScope || []).join(' ');
  const claims = (details.missingOIDCClaims || []).join(' ');
  return page('Authorize', `<p><strong>${esc(clientId)}</strong> asks ${esc(account)} for: ${esc(scopes)}</p>
<p>claims: ${esc(claims)}</p>
<form id="consent" method="post" action="${issuerPath}/interaction/${esc(uid)}/confirm">
<button type="submit" name="decision" value="allow">Allow</button>
</form>
<form id="abort" method="post" action="${issuerPath}/interaction/${esc(uid)}/abort">
<button type="submit" name="decision" value="deny">Deny</button>
</form>`);
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const c of req) {
    size += c.length;
    if (size > 65536) throw new Error('body too large');
    chunks.push(c);
  }
  return parseQuery(Buffer.concat(chunks).toString('utf8'));
}

function send(res, status, type, body, headers = {}) {
  res.writeHead(status, {
    'Content-Type': type,
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(body);
}

function safeEqual(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) {
    send(res, 400, 'text/plain', 'interaction mismatch\n');
    return;
  }
  const { prompt, params, session } = details;
  if (action === '' && req.method === 'GET') {
    if (prompt.name === 'login') {
      send(res, 200, 'text/html; charset=utf-8', loginPage(uid, params.client_id));
    } else if (prompt.name === 'consent') {
      send(res, 200, 'text/html; charset=utf-8',
        consentPage(uid, params.client_id, prompt.details, session && session.accountId));
    } else {
      send(res, 501, 'text/plain', `prompt ${prompt.name} not implemented\n`);
    }
    return;
  }
  if (action === 'login' && req.method === 'POST') {
    const body = await readBody(req);
    const u = users[body.login];
    if (prompt.name !== 'login') {
      send(res, 400, 'text/plain', 'not a login prompt\n');
      return;
    }
    if (!u || !safeEqual(u.password, body.password || '')) {
      log('login refused for', JSON.stringify(body.login));
      send(res, 200, 'text/html; charset=utf-8',
        loginPage(uid, params.client_id, 'Invalid username or password'));
      return;
    }
    log('login', body.login);
    await provider.interactionFinished(req, res, {
      login: { accountId: body.login, amr: ['pwd'] },
    }, { mergeWithLastSubmission: false });
    return;
  }
  if (action === 'confirm' && req.method === 'POST') {
    await readBody(req);
    if (prompt.name !== 'consent') {
      send(res, 400, 'text/plain', 'not a consent prompt\n');
      return;
    }
    const { grantId } = details;
    const grant = grantId
      ? await provider.Grant.find(grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    if (prompt.details.missingResourceScopes) {
      for (const [indicator, s] of Object.entries(prompt.details.missingResourceScopes)) {
        grant.addResourceScope(indicator, s.join(' '));
      }
    }
    log('consent', session.accountId, params.client_id);
    await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } },
      { mergeWithLastSubmission: true });
    return;
  }
  if (action === 'abort') {
    if (req.method === 'POST') await readBody(req);
    log('abort', uid);
    await provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'End-User aborted interaction',
    }, { mergeWithLastSubmission: false });
    return;
  }
  send(res, 405, 'text/plain', 'method not allowed\n');
}

function writeKeysFile() {
  if (config.keys_file) {
    fs.writeFileSync(`${config.keys_file}.tmp`, JSON.stringify(publicJwks(signingKeys)));
    fs.renameSync(`${config.keys_file}.tmp`, config.keys_file);
  }
}

function control(req, res, path, query) {
  const auth = req.headers.authorization || '';
  if (!config.control_token || !safeEqual(auth, `Bearer ${config.control_token}`)) {
    send(res, 401, 'application/json', '{"error":"unauthorized"}');
    return;
  }
  if (path === '/_test/jwks' && req.method === 'GET') {
    send(res, 200, 'application/json', JSON.stringify(publicJwks(signingKeys)));
    return;
  }
  if (path === '/_test/wire' && req.method === 'GET') {
    send(res, 200, 'application/json', JSON.stringify(wire));
    return;
  }
  if (path === '/_test/rotate' && req.method === 'POST') {
    const keepOld = query.keep_old === '1';
    const fresh = newKeys();
    const old = signingKeys;
    signingKeys = keepOld ? [...fresh, ...old] : fresh;
    provider = build(signingKeys);
    handler = provider.callback();
    writeKeysFile();
    log('rotated keys:', old.map((k) => k.kid).join(','), '->', signingKeys.map((k) => k.kid).join(','));
    send(res, 200, 'application/json', JSON.stringify(publicJwks(signingKeys)));
    return;
  }
  if (path === '/_test/config' && req.method === 'POST') {
    const ttl = Number.parseInt(query.device_ttl, 10);
    if (!(ttl > 0)) {
      send(res, 400, 'application/json', '{"error":"device_ttl must be a positive integer"}');
      return;
    }
    deviceTtl = ttl;
    provider = build(signingKeys);
    handler = provider.callback();
    log('device_ttl', ttl);
    send(res, 200, 'application/json', JSON.stringify({ device_ttl: ttl }));
    return;
  }
  send(res, 404, 'application/json', '{"error":"not_found"}');
}

// ---------------------------------------------------------------- server
// Every request, by connection (GET /_test/wire); bounded.
const connIds = new WeakMap();
let connCount = 0;
let wireSeq = 0;
const wire = [];
function noteRequest(req, path) {
  let id = connIds.get(req.socket);
  if (id === undefined) {
    connCount += 1;
    id = connCount;
    connIds.set(req.socket, id);
  }
  wireSeq += 1;
  wire.push({ seq: wireSeq, conn: id, method: req.method, path });
  if (wire.length > 2000) wire.shift();
}

const server = https.createServer({
  cert: fs.readFileSync(config.cert),
  key: fs.readFileSync(config.key),
}, async (req, res) => {
  const url = new URL(req.url, 'https://127.0.0.1');
  const path = url.pathname;
  try {
    if (path.startsWith('/_test/')) {
      control(req, res, path, Object.fromEntries(url.searchParams));
      return;
    }
    noteRequest(req, path);
    if (issuerPath && !(path === issuerPath || path.startsWith(`${issuerPath}/`))) {
      send(res, 404, 'text/plain', 'not found\n');
      return;
    }
    const rel = path.slice(issuerPath.length) || '/';
    const m = rel.match(/^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|confirm|abort))?$/);
    if (m) {
      await interaction(req, res, m[1], m[2] || '');
      return;
    }
    if (issuerPath) {
      req.originalUrl = req.url;
      req.url = rel + url.search;
    }
    handler(req, res);
  } catch (err) {
    log('error', req.method, req.url, err);
    if (!res.headersSent) {
      send(res, err.statusCode || 500, 'text/plain', `${err.name}: ${err.message}\n`);
    } else {
      res.end();
    }
  }
});

server.listen(config.port || 0, '127.0.0.1', () => {
  port = server.address().port;
  provider = build(signingKeys);
  handler = provider.callback();
  writeKeysFile();
  if (config.port_file) {
    fs.writeFileSync(`${config.port_file}.tmp`, `${port}\n`);
    fs.renameSync(`${config.port_file}.tmp`, config.port_file);
  }
  log(`listening on https://127.0.0.1:${port}${issuerPath}`);
});

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    server.close();
    process.exit(0);
  });
}
