import { describe, expect, it } from 'vitest';
import { SECRET_RULES } from '../../src/secrets/rules.ts';
import { PII_RULES } from '../../src/secrets/pii.ts';
import { scanText } from '../../src/secrets/scan.ts';
import { VALIDATORS } from '../../src/secrets/validators.ts';
import { ALNUM, B64URL, Fakes, HEX } from '../fixtures/secrets/fakes.ts';

const f = new Fakes(7);

// [rule id, text, the secret inside it]
const POSITIVES: Array<[string, string, string]> = [];
function pos(rule: string, text: string, secret: string): void {
  POSITIVES.push([rule, text, secret]);
}
{
  const k = f.pem('RSA PRIVATE KEY', 300);
  pos('private-key', k, k.split('\n')[1]!);
  const j = JSON.stringify({ private_key: f.pem('PRIVATE KEY', 300) });
  pos('private-key', j, j.slice(40, 70));
  const s = f.openssh();
  pos('private-key', s, s.split('\n')[1]!);
  const p = f.pgpPrivate();
  pos('private-key', p, p.split('\n')[2]!);
  const body = f.b64(200);
  pos('ssh2-private-key', `---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nComment: "x"\n${body}\n---- END SSH2 ENCRYPTED PRIVATE KEY ----`, body.slice(0, 40));
  const putty = f.putty();
  pos('putty-private-key', putty, putty.split('\n')[7]!);
  const age = f.age();
  pos('age-secret-key', age, age);
  const d = f.b64url(200);
  pos('jwk-private-key', `{"kty":"EC","crv":"P-256","d":"${d}","x":"abc"}`, d);
}
{
  const id = f.awsKeyId();
  pos('aws-access-key-id', `key id ${id}`, id);
  const s = f.awsSecret();
  pos('aws-secret-access-key', `aws_secret_access_key = ${s}`, s);
  const s2 = f.awsSecret();
  pos('aws-secret-access-key-pair', `${f.awsKeyId()} / ${s2}`, s2);
  const kid = f.hex(40);
  pos('gcp-service-account', `"private_key_id": "${kid}"`, kid);
  const g = f.googleApiKey();
  pos('gcp-api-key', `key=${g}`, g);
  const c = `GOCSPX-${f.str(B64URL, 28)}`;
  pos('gcp-oauth-client-secret', c, c);
  const y = `ya29.${f.str(B64URL, 120)}`;
  pos('gcp-oauth-token', `access ${y}`, y);
  const a = f.azureAccountKey();
  pos('azure-storage-key', `AccountName=x;AccountKey=${a};`, a);
  const sig = f.azureSasSig();
  pos('azure-sas-signature', `https://x.blob.core.windows.net/c?sv=2022-11-02&sp=r&sig=${sig}`, sig);
  const ad = f.azureAdSecret();
  pos('azure-ad-client-secret', `secret ${ad}`, ad);
  const ali = `LTAI${f.str(ALNUM, 20)}`;
  pos('alibaba-access-key-id', ali, ali);
  const dop = f.digitalocean();
  pos('digitalocean-token', dop, dop);
  const her = f.heroku();
  pos('heroku-api-key', her, her);
  const heru = f.uuid();
  pos('heroku-api-key', `heroku api key: ${heru}`, heru);
  const v = f.vault();
  pos('vault-token', v, v);
  const vs = `s.${f.str(ALNUM, 24)}`;
  pos('vault-token', `vault token ${vs}`, vs);
  const db = f.databricks();
  pos('databricks-token', db, db);
  const tf = `${f.str(ALNUM, 14)}.atlasv1.${f.str(B64URL, 67)}`;
  pos('terraform-cloud-token', tf, tf);
  const pul = `pul-${f.hex(40)}`;
  pos('pulumi-token', pul, pul);
  const fly = `fo1_${f.str(B64URL, 43)}`;
  pos('fly-token', fly, fly);
}
{
  const gh = f.github('ghp');
  pos('github-token', gh, gh);
  const fg = f.githubFineGrained();
  pos('github-fine-grained-pat', fg, fg);
  const gl = f.gitlab();
  pos('gitlab-token', gl, gl);
  const gr = `GR1348941${f.str(B64URL, 20)}`;
  pos('gitlab-token', gr, gr);
  const bb = `ATBB${f.str(ALNUM, 32)}`;
  pos('bitbucket-app-password', bb, bb);
  const at = `ATATT3xFfGF0${f.str(B64URL, 180)}`;
  pos('atlassian-api-token', at, at);
  const npm = f.npm();
  pos('npm-token', npm, npm);
  const npmrc = f.uuid();
  pos('npmrc-auth', `//registry.example.org/:_authToken=${npmrc}`, npmrc);
  const pypi = f.pypi();
  pos('pypi-token', pypi, pypi);
  const rg = `rubygems_${f.hex(48)}`;
  pos('rubygems-token', rg, rg);
  const dk = `dckr_pat_${f.str(B64URL, 27)}`;
  pos('docker-hub-token', dk, dk);
  const auth = Buffer.from('bot:Hunter2!x').toString('base64');
  pos('docker-config-auth', `{"auths":{"r.example.org":{"auth":"${auth}"}}}`, auth);
  const pm = f.postman();
  pos('postman-api-key', pm, pm);
  const se = `sntryu_${f.hex(64)}`;
  pos('sentry-token', se, se);
  const gs = f.grafanaServiceAccount();
  pos('grafana-token', gs, gs);
  const nr = f.newrelic();
  pos('newrelic-key', nr, nr);
  const dt = `dt0c01.${f.str('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 24)}.${f.str('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 64)}`;
  pos('dynatrace-token', dt, dt);
  const dp = `dp.st.${f.str(ALNUM, 43)}`;
  pos('doppler-token', dp, dp);
  const ts = `tskey-auth-${f.str(ALNUM, 12)}-${f.str(ALNUM, 30)}`;
  pos('tailscale-key', ts, ts);
  const bk = `bkua_${f.hex(40)}`;
  pos('buildkite-token', bk, bk);
}
{
  const sl = f.slackBot();
  pos('slack-token', sl, sl);
  const xapp = `xapp-1-A${f.str('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 10)}-${f.str('0123456789', 13)}-${f.hex(64)}`;
  pos('slack-token', xapp, xapp);
  const hook = f.slackWebhook();
  pos('slack-webhook', hook, hook.split('/services/')[1]!);
  const dw = f.discordWebhook();
  pos('discord-webhook', dw, dw.split('/webhooks/')[1]!);
  const bot = f.discordBot();
  pos('discord-bot-token', `token ${bot}`, bot);
  const tg = f.telegram();
  pos('telegram-bot-token', `https://api.telegram.org/bot${tg}/getMe`, tg);
  const lin = f.linear();
  pos('linear-api-key', lin, lin);
  const ntn = `ntn_${f.str('0123456789', 11)}${f.str(ALNUM, 35)}`;
  pos('notion-token', ntn, ntn);
  const fig = `figd_${f.str(B64URL, 40)}`;
  pos('figma-token', fig, fig);
  const air = `pat${f.str(ALNUM, 14)}.${f.hex(64)}`;
  pos('airtable-token', air, air);
}
{
  const sk = f.stripe('sk_live_');
  pos('stripe-secret-key', sk, sk);
  const wh = `whsec_${f.str(ALNUM, 32)}`;
  pos('stripe-webhook-secret', wh, wh);
  const sq = `sq0csp-${f.str(B64URL, 43)}`;
  pos('square-token', sq, sq);
  const sh = f.shopify();
  pos('shopify-token', sh, sh);
  const sg = f.sendgrid();
  pos('sendgrid-api-key', sg, sg);
  const mg = f.mailgun();
  pos('mailgun-api-key', mg, mg);
  const mc = `${f.hex(32)}-us21`;
  pos('mailchimp-api-key', mc, mc);
  const brevo = `xkeysib-${f.hex(64)}-${f.str(ALNUM, 16)}`;
  pos('brevo-api-key', brevo, brevo);
  const re = `re_${f.str(ALNUM, 8)}_${f.str(ALNUM, 24)}`;
  pos('resend-api-key', re, re);
  const tw = f.twilioKeySid();
  pos('twilio-api-key', tw, tw);
  const twa = f.hex(32);
  pos('twilio-auth-token', `twilio sid AC${f.hex(32)} auth token: ${twa}`, twa);
}
{
  const ant = f.anthropic();
  pos('anthropic-api-key', ant, ant);
  const oa = f.openaiProject();
  pos('openai-api-key', oa, oa);
  const ol = f.openaiLegacy();
  pos('openai-api-key', ol, ol);
  const ds = `sk-${f.hex(32)}`;
  pos('ai-api-key', ds, ds);
  const gsk = `gsk_${f.str(ALNUM, 52)}`;
  pos('ai-api-key', gsk, gsk);
  const hf = f.huggingface();
  pos('huggingface-token', hf, hf);
  const ls = `lsv2_pt_${f.hex(32)}_${f.hex(10)}`;
  pos('langsmith-api-key', ls, ls);
  const pc = `pcsk_${f.str(ALNUM, 6)}_${f.str(ALNUM, 60)}`;
  pos('pinecone-api-key', pc, pc);
  const sbp = `sbp_${f.hex(40)}`;
  pos('supabase-token', sbp, sbp);
  const ps = `pscale_tkn_${f.str(B64URL, 43)}`;
  pos('planetscale-token', ps, ps);
  const fb = `EAAB${f.str(ALNUM, 150)}`;
  pos('facebook-access-token', fb, fb);
  const mb = `sk.eyJ${f.str(B64URL, 70)}.${f.str(B64URL, 22)}`;
  pos('mapbox-secret-token', mb, mb);
  const dbx = `sl.${f.str(B64URL, 138)}`;
  pos('dropbox-token', dbx, dbx);
  const jf = `AKCp${f.str(ALNUM, 69)}`;
  pos('jfrog-token', jf, jf);
}
{
  const jwt = f.jwt();
  pos('jwt', jwt, jwt);
  const bc = `$2b$12$${f.str('./' + ALNUM, 53)}`;
  pos('password-hash', `admin:${bc}`, bc);
  const teams = `https://acme.webhook.office.com/webhookb2/${f.uuid()}@${f.uuid()}/IncomingWebhook/${f.hex(32)}/${f.uuid()}`;
  pos('teams-webhook', teams, teams.split('/webhookb2/')[1]!);
  const fcm = `AAAA${f.str(B64URL, 7)}:APA91b${f.str(B64URL, 134)}`;
  pos('firebase-server-key', fcm, fcm);
  pos('code-basic-auth', `requests.get(u, auth=('admin', 'Hunter2!x'))`, 'Hunter2!x');
  const sha = `$6$${f.str(ALNUM, 16)}$${f.str('./' + ALNUM, 86)}`;
  pos('password-hash', `root:${sha}:19000:0:99999:7:::`, sha);
  pos('url-credentials', 'postgres://app:Xq7!pLm2@db.internal/app', 'Xq7!pLm2');
  pos('url-credentials', 'redis://:k3yV4lu3x@cache:6379', 'k3yV4lu3x');
  const basic = Buffer.from('admin:Hunter2!x').toString('base64');
  pos('http-basic-auth', `Authorization: Basic ${basic}`, basic);
  const bearer = f.b64url(32);
  pos('http-bearer-token', `Authorization: Bearer ${bearer}`, bearer);
  const tok = f.hex(40);
  pos('http-authorization', `Authorization: token ${tok}`, tok);
  const ssws = `00${f.str(ALNUM, 40)}`;
  pos('http-authorization', `SSWS ${ssws}`, ssws);
  pos('netrc-password', 'machine example.org login me password Hunter2!x', 'Hunter2!x');
  pos('cli-credentials', 'mysql -u root -pHunter2!x db', 'Hunter2!x');
  pos('cli-credentials', 'curl -u me:Hunter2!x https://x', 'me:Hunter2!x');
  const cli = f.b64url(24);
  pos('cli-credentials', `deploy --token ${cli}`, cli);
  pos('password-assignment', 'DB_PASSWORD=Hunter2!x', 'Hunter2!x');
  pos('password-assignment', '{"password": "Hunter2!x"}', 'Hunter2!x');
  pos('password-assignment', "'password' => 'Hunter2!x',", 'Hunter2!x');
  pos('password-assignment', 'Server=x;Database=y;User Id=sa;Password=Hunter2!x;', 'Hunter2!x');
  const gen = f.hex(32);
  pos('secret-assignment', `client_secret: ${gen}`, gen);
  pos('secret-assignment', `X-Api-Key: ${gen}x`, `${gen}x`);
  pos('credential-xml-element', '<db:password>Hunter2!x</db:password>', 'Hunter2!x');
  pos('credential-prose', 'the password is Hunter2!x', 'Hunter2!x');
  pos('credential-prose', 'das Passwort lautet Hunter2!x', 'Hunter2!x');
  pos('credential-prose', 'пароль для сервера: Hunter2!x', 'Hunter2!x');
  pos('credential-prose', '密码是Hunter2!x', 'Hunter2!x');
}

// Text that looks like each family but is not a credential.
const NEGATIVES: Array<[string, string]> = [
  ['private-key', '-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----'],
  ['private-key', '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\n-----END PUBLIC KEY-----'],
  ['aws-access-key-id', 'AKIAIOSFODNN7EXAMPLE'],
  ['aws-secret-access-key', 'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
  ['github-token', `ghp_${f.str(ALNUM, 36)}`], // checksum does not match
  ['github-token', 'ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'],
  ['npm-token', `npm_${f.str(ALNUM, 36)}`],
  ['slack-token', 'xoxb-your-token-here'],
  ['slack-webhook', 'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX'],
  ['stripe-secret-key', 'sk_live_...'],
  ['stripe-secret-key', `pk_live_${f.str(ALNUM, 24)}`],
  ['discord-bot-token', `${Buffer.from('hello-world-not-id').toString('base64url')}.abcdef.${f.str(B64URL, 30)}`],
  ['jwt', 'eyJhbGciOiJIUzI1NiJ9 alone is only a header'],
  ['url-credentials', 'postgres://user:password@localhost/db'],
  ['url-credentials', 'postgres://USER:${PASSWORD}@host/db'],
  ['url-credentials', 'https://user@example.org/path'],
  ['http-basic-auth', 'Basic auth is disabled'],
  ['http-bearer-token', 'Authorization: Bearer <token>'],
  ['password-assignment', 'password: ${DB_PASSWORD}'],
  ['password-assignment', 'password_min_length=12'],
  ['password-assignment', 'passwordless=true'],
  ['secret-assignment', `"max_tokens": 4096, "next_page_token": "${f.b64url(20)}"`],
  ['secret-assignment', `"public_key": "${f.b64(32)}"`],
  ['credential-prose', 'the password is incorrect'],
  ['credential-prose', 'the password is stored in the vault'],
  ['password-hash', 'bcrypt hashes start with $2b$'],
  ['password-hash', `a sample hash: $2b$12$${f.str(ALNUM, 53)}`],
  ['code-basic-auth', `auth=('admin', '\${PASSWORD}')`],
  ['twilio-api-key', `SK${f.str(HEX, 31)}`],
];

describe('the detector table', () => {
  const all = [...SECRET_RULES, ...PII_RULES];

  it('every rule has an id, a description, a global pattern and lower-case keywords', () => {
    for (const rule of all) {
      expect(rule.id).toMatch(/^[a-z0-9]+(?:-[a-z0-9]+)*$/);
      expect(rule.description.length).toBeGreaterThan(3);
      expect(rule.pattern.global).toBe(true);
      for (const keyword of rule.keywords) expect(keyword).toBe(keyword.toLowerCase());
    }
  });

  it('secret rule ids are unique and every named validator exists', () => {
    const ids = SECRET_RULES.map((rule) => rule.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of SECRET_RULES) if (rule.validator) expect(VALIDATORS[rule.validator]).toBeTypeOf('function');
  });

  it('every secret rule has at least one positive example here', () => {
    const covered = new Set(POSITIVES.map(([rule]) => rule));
    expect(SECRET_RULES.map((rule) => rule.id).filter((id) => !covered.has(id))).toEqual([]);
  });

  it('no rule pattern matches the empty string', () => {
    for (const rule of all) {
      rule.pattern.lastIndex = 0;
      const match = rule.pattern.exec('');
      expect(match === null || match[0].length > 0).toBe(true);
    }
  });
});

describe('each rule on its own formats', () => {
  it.each(POSITIVES)('%s finds the secret in %j', (rule, text, secret) => {
    const findings = scanText(text);
    expect(findings.map((finding) => finding.ruleId)).toContain(rule);
    expect(JSON.stringify(findings)).not.toContain(secret);
  });

  it.each(NEGATIVES)('%s stays quiet on %j', (rule, text) => {
    expect(scanText(text).map((finding) => finding.ruleId)).not.toContain(rule);
  });
});
