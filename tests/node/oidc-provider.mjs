// A real OpenID Connect provider (npm `oidc-provider`, the certified Node implementation) for the
// OIDC sign-in test of `rats serve` (tests/it/oidc.rs). Only the login page is ours: instead of
// a form for a person it takes `POST /interaction/<uid>` with `account=<name>`, signs that
// account in and grants the scopes asked for, as a person pressing "sign in" and "allow" would.
//
//   node tests/node/oidc-provider.mjs PORT REDIRECT_URI
//
// Prints "ready" on stdout once it listens on 127.0.0.1:PORT. Client `rats` (secret
// `rats-test-secret`, client_secret_basic, PKCE required) may redirect to REDIRECT_URI.
import http from 'node:http';
import { generateKeyPair, exportJWK } from 'jose';
import Provider from 'oidc-provider';

// The library's notices go to stderr: stdout carries only "ready", and its reader may be gone.
console.log = console.info = console.warn = console.error;

const [port, redirectUri] = process.argv.slice(2);
if (!port || !redirectUri) {
  console.error('usage: provider.mjs PORT REDIRECT_URI');
  process.exit(2);
}

// The people of the test: their claims, and the groups rats maps to roles.
const ACCOUNTS = {
  alice: { email: 'alice@example.org', preferred_username: 'Alice', groups: ['rats-admins'] },
  bob: { email: 'bob@example.org', preferred_username: 'bob', groups: ['staff', 'market-analysts'] },
  mallory: { email: 'mallory@example.org', preferred_username: 'mallory', groups: ['staff'] },
};

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signingKey = { ...(await exportJWK(privateKey)), kid: 'test-rs256', alg: 'RS256', use: 'sig' };

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: 'rats',
    client_secret: 'rats-test-secret',
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['preferred_username'],
    groups: ['groups'],
  },
  jwks: { keys: [signingKey] },
  cookies: { keys: ['rats-oidc-test-cookie-key'] },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const account = ACCOUNTS[id];
    if (!account) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, email_verified: true, ...account }) };
  },
});

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

// The login page: signs in the posted account and grants what the client asked for.
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`${details.prompt.name} for ${details.params.client_id} (${JSON.stringify(details.prompt.reasons)}): POST account=<name>\n`);
    return;
  }
  const accountId = (await readForm(req)).get('account');
  if (!ACCOUNTS[accountId]) {
    await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'no such account' });
    return;
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } });
}

const handle = provider.callback();
http.createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((error) => {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
  } else {
    handle(req, res);
  }
}).listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
