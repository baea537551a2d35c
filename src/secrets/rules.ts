/**
 * The secret detectors, as data. Each rule has an id (stable: it appears in output and audit
 * records), a description, lower-case keywords for the pre-filter (a rule's regex only runs in a
 * window around a hit of one of its keywords; no keywords = the whole text), a pattern, and
 * optionally: the capture groups that hold the secret, a minimum entropy, a named validator
 * (checksum or structure, see validators.ts) and allow patterns for known samples.
 *
 * Token formats are public facts (vendors' documentation and announcements); the patterns are
 * written here. Every quantifier is bounded and every pattern starts at a boundary, so no input
 * makes a rule backtrack more than a few hundred steps per position.
 *
 * Order matters: specific rules come first, so when a generic rule matches the same characters
 * (GITHUB_TOKEN=ghp_...), the finding keeps the specific rule's id.
 */

export type ValidatorName =
  | 'prefixedCrc32'
  | 'jwt'
  | 'basicCredentials'
  | 'discord'
  | 'sasSignature'
  | 'pemBody'
  | 'passwordAssignment'
  | 'secretAssignment'
  | 'credentialProse'
  | 'urlCredentials'
  | 'secretLike'
  | 'passwordLike'
  | 'userPassPair'
  | 'awsSecretNearId';

export interface Detector {
  id: string;
  description: string;
  /** Lower-case substrings; the rule runs only around their occurrences. Empty: runs on the whole text. */
  keywords: readonly string[];
  /** Must have the `g` flag. */
  pattern: RegExp;
  /** Capture groups that may hold the secret, first defined wins; default [1], else the whole match. */
  groups?: readonly number[];
  /** Minimum Shannon entropy (bits per character) of the secret. */
  minEntropy?: number;
  validator?: ValidatorName;
  /** Known samples and placeholders for this format (tested against the secret). */
  allow?: readonly RegExp[];
  /** Characters around a keyword hit the pattern may need: before its start, after its start. */
  window?: { before: number; after: number };
  /**
   * Match only at the keyword hits instead of searching windows: from each hit, step back over up
   * to `back` characters of `chars` (a regex character class) and one optional `prefix`
   * character, and try the pattern there (sticky). For rules whose keywords are frequent words.
   */
  anchor?: {
    back: number;
    chars: string;
    prefix?: string;
    /** Skip the hit unless the prefix character is there (an XML element's "<"). */
    prefixRequired?: boolean;
    /**
     * Skip the hit unless, after the rest of the key (up to 40 of `chars`), an optional quote and
     * up to 5 spaces, the next character is one of these (an assignment's "=" or ":").
     */
    then?: string;
  };
  /** Skip the generic placeholder test (the validator decides). */
  noPlaceholderCheck?: boolean;
}

const AWS_EXAMPLES = [/EXAMPLE/];

// Shared pieces of the generic rules.
// Markdown emphasis between the separator and the value is skipped ("**password**: x").
const VALUE = String.raw`[*_]{0,3}\s{0,3}(?:"([^"\r\n]{1,512})"|'([^'\r\n]{1,512})'|\x60([^\x60\r\n]{1,512})\x60|([^\s"'\x60<>,;&]{1,512}))`;
// Passwords keep symbols, "&" included; the validator cuts a following "&name=" query parameter.
const PASSWORD_VALUE = String.raw`[*_]{0,3}\s{0,3}(?:"([^"\r\n]{1,512})"|'([^'\r\n]{1,512})'|\x60([^\x60\r\n]{1,512})\x60|([^\s"'\x60<>,;]{1,512}))`;
const PASSWORD_WORDS = String.raw`(?:pass(?:word|wd|phrase|code)?|pwd|pw|passwort|kennwort|wachtwoord|contrase(?:ñ|n)a|senha|l(?:ö|o)senord|adgangskode|passord|salasana|has(?:ł|l)o|heslo|jelsz(?:ó|o)|parola|(?:ş|s)ifre|mdp|motdepasse|mot_de_passe|пароль)`;
const PROSE_KEYS = String.raw`(?:pass(?:word|phrase|code)s?|pass ?code|pwd|pw|passwort|kennwort|mot de passe|mdp|contraseña|contrasena|clave|senha|palavra-passe|wachtwoord|lösenord(?:et)?|losenord|adgangskode(?:n)?|passord(?:et)?|salasana|hasło|haslo|heslo|jelszó|jelszo|parola|şifre(?:si)?|sifre|пароль|パスワード|密码|密碼|口令|비밀번호|كلمة المرور|סיסמה|mật khẩu|รหัสผ่าน|κωδικός|kata sandi|contrasenya|lozinka|geslo|parool|slaptažodis|token|jeton|токен|api[ -]?key|api[ -]?token|api-schlüssel|clé (?:api|secrète)|cle api|clave (?:api|secreta)|chave (?:api|secreta)|access key|secret key|secret|geheimnis|credentials?|login details|login)`;

export const SECRET_RULES: readonly Detector[] = [
  // --- Private keys -------------------------------------------------------------------------
  {
    id: 'private-key',
    description: 'PEM / OpenSSH / PGP private key block',
    keywords: ['private key'],
    pattern: /-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----([\s\S]{0,800})/g,
    validator: 'pemBody',
    window: { before: 40, after: 900 },
    noPlaceholderCheck: true,
  },
  {
    id: 'ssh2-private-key',
    description: 'SSH2 (RFC 4716 style) private key block',
    keywords: ['begin ssh2 encrypted private key', 'begin ssh2 private key'],
    pattern: /---- BEGIN SSH2 (?:ENCRYPTED )?PRIVATE KEY ----([\s\S]{0,800})/g,
    validator: 'pemBody',
    window: { before: 10, after: 900 },
    noPlaceholderCheck: true,
  },
  {
    id: 'putty-private-key',
    description: 'PuTTY private key file',
    // The "Private-Lines:" section of a .ppk file (only PuTTY writes it) and the key lines after it.
    keywords: ['private-lines:'],
    pattern: /Private-Lines: ?\d{1,3}\s{1,4}([A-Za-z0-9+/=\s]{20,800})/g,
    window: { before: 2, after: 900 },
    noPlaceholderCheck: true,
  },
  {
    id: 'age-secret-key',
    description: 'age encryption secret key',
    keywords: ['age-secret-key-1'],
    pattern: /(AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})(?![A-Z0-9])/g,
  },
  {
    id: 'jwk-private-key',
    description: 'JSON Web Key with a private component',
    keywords: ['"kty"'],
    pattern: /"(?:d|p|q|dp|dq)"\s{0,3}:\s{0,3}"([A-Za-z0-9_-]{40,2000})"/g,
    window: { before: 3000, after: 3000 },
    minEntropy: 4,
  },

  // --- Cloud providers ------------------------------------------------------------------------
  {
    id: 'aws-access-key-id',
    description: 'AWS access key id',
    keywords: ['akia', 'asia', 'abia', 'acca', 'a3t'],
    pattern: /(?<![A-Za-z0-9])((?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16})(?![A-Za-z0-9])/g,
    allow: AWS_EXAMPLES,
    window: { before: 2, after: 24 },
  },
  {
    id: 'aws-secret-access-key',
    description: 'AWS secret access key',
    keywords: ['aws', 'secret_access', 'secretaccess', 'secret-access', 'secret access'],
    pattern: /(?:aws[\w.\- "']{0,30}?secret[\w.\- "']{0,30}?|secret[_\-. ]?access[_\-. ]?key["' ]{0,3})\s{0,5}(?:=>|:=|=|:|\bis\b)\s{0,5}["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/gi,
    minEntropy: 3.8,
    allow: AWS_EXAMPLES,
    window: { before: 40, after: 160 },
  },
  {
    id: 'aws-secret-access-key-pair',
    description: 'AWS secret access key (next to its key id)',
    keywords: ['akia', 'asia'],
    pattern: /(?:AKIA|ASIA)[A-Z2-7]{16}(?![A-Za-z0-9])[\s\S]{1,120}?(?<![A-Za-z0-9/+=])([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/g,
    validator: 'awsSecretNearId',
    allow: AWS_EXAMPLES,
    window: { before: 2, after: 200 },
  },
  {
    id: 'gcp-service-account',
    description: 'Google Cloud service-account key (private_key_id)',
    keywords: ['private_key_id'],
    pattern: /"private_key_id"\s{0,5}:\s{0,5}"([a-f0-9]{40})"/g,
  },
  {
    id: 'gcp-api-key',
    description: 'Google API key',
    keywords: ['aiza'],
    pattern: /(?<![A-Za-z0-9_-])(AIza[0-9A-Za-z_-]{35})(?![A-Za-z0-9_-])/g,
  },
  {
    id: 'gcp-oauth-client-secret',
    description: 'Google OAuth client secret',
    keywords: ['gocspx-'],
    pattern: /(GOCSPX-[A-Za-z0-9_-]{28})(?![A-Za-z0-9_-])/g,
  },
  {
    id: 'gcp-oauth-token',
    description: 'Google OAuth access or refresh token',
    keywords: ['ya29.', '1//0'],
    pattern: /(?<![A-Za-z0-9_.-])(ya29\.[0-9A-Za-z_-]{30,2000}|1\/\/0[0-9A-Za-z_-]{40,400})(?![A-Za-z0-9_-])/g,
    minEntropy: 3.5,
    window: { before: 2, after: 2100 },
  },
  {
    id: 'azure-storage-key',
    description: 'Azure storage / service bus connection string key',
    keywords: ['accountkey=', 'sharedaccesskey='],
    pattern: /(?:AccountKey|SharedAccessKey)=([A-Za-z0-9+/]{40,100}={0,2})/gi,
    minEntropy: 4,
    window: { before: 2, after: 140 },
  },
  {
    id: 'azure-sas-signature',
    description: 'Azure shared access signature (sig=)',
    keywords: ['sig='],
    pattern: /(?:^|[?&;\s"'])sig=([A-Za-z0-9%+/=]{40,130})/g,
    validator: 'sasSignature',
    window: { before: 2, after: 140 },
  },
  {
    id: 'azure-ad-client-secret',
    description: 'Azure AD (Entra ID) client secret',
    keywords: ['q~'],
    pattern: /(?<![A-Za-z0-9_~.-])([A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34})(?![A-Za-z0-9_~.-])/g,
    window: { before: 6, after: 40 },
  },
  {
    id: 'alibaba-access-key-id',
    description: 'Alibaba Cloud access key id',
    keywords: ['ltai'],
    pattern: /(?<![A-Za-z0-9])(LTAI[A-Za-z0-9]{12,20})(?![A-Za-z0-9])/g,
    minEntropy: 3.3,
  },
  {
    id: 'digitalocean-token',
    description: 'DigitalOcean token',
    keywords: ['dop_v1_', 'doo_v1_', 'dor_v1_'],
    pattern: /(do[por]_v1_[a-f0-9]{64})(?![a-f0-9])/g,
  },
  {
    id: 'heroku-api-key',
    description: 'Heroku API key',
    keywords: ['hrku-', 'heroku'],
    pattern: /(?<![A-Za-z0-9_-])(HRKU-[A-Za-z0-9_-]{20,80})(?![A-Za-z0-9_-])|heroku[\w\s."'-]{0,40}?(?:key|token|secret|auth)[\w\s."'-]{0,20}?[:=\s]\s{0,3}["']?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?![A-Za-z0-9-])/gi,
    groups: [1, 2],
    window: { before: 2, after: 140 },
  },
  {
    id: 'vault-token',
    description: 'HashiCorp Vault token',
    keywords: ['hvs.', 'hvb.', 'hvr.', 'vault'],
    pattern: /(?<![A-Za-z0-9_.-])(hv[sbr]\.[A-Za-z0-9_-]{24,400})(?![A-Za-z0-9_-])|vault[\s\S]{0,60}?(?<![A-Za-z0-9.])(s\.[A-Za-z0-9]{24})(?![A-Za-z0-9])/gi,
    groups: [1, 2],
    minEntropy: 3.5,
    window: { before: 2, after: 420 },
  },
  {
    id: 'databricks-token',
    description: 'Databricks token',
    keywords: ['dapi', 'dose'],
    pattern: /(?<![A-Za-z0-9])((?:dapi|dose)[a-f0-9]{32}(?:-\d)?)(?![A-Za-z0-9])/g,
  },
  {
    id: 'terraform-cloud-token',
    description: 'Terraform Cloud / HCP token',
    keywords: ['.atlasv1.'],
    pattern: /(?<![A-Za-z0-9])([A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_-]{60,90})(?![A-Za-z0-9_-])/g,
    window: { before: 16, after: 100 },
  },
  {
    id: 'pulumi-token',
    description: 'Pulumi access token',
    keywords: ['pul-'],
    pattern: /(?<![A-Za-z0-9_-])(pul-[a-f0-9]{40})(?![A-Za-z0-9])/g,
  },
  {
    id: 'fly-token',
    description: 'Fly.io token',
    keywords: ['fo1_', 'fm1r_', 'fm1a_', 'fm2_'],
    pattern: /(?<![A-Za-z0-9_-])(fo1_[A-Za-z0-9_-]{43}|fm[12][ar]?_[A-Za-z0-9+/=_-]{100,2000})(?![A-Za-z0-9_-])/g,
    window: { before: 2, after: 2100 },
  },

  // --- Source hosting, CI, package registries -----------------------------------------------
  {
    id: 'github-token',
    description: 'GitHub token (classic PAT, OAuth, user-to-server, server-to-server, refresh)',
    keywords: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'],
    pattern: /(?<![A-Za-z0-9_])(gh[pousr]_[A-Za-z0-9]{36})(?![A-Za-z0-9_])/g,
    validator: 'prefixedCrc32',
  },
  {
    id: 'github-fine-grained-pat',
    description: 'GitHub fine-grained personal access token',
    keywords: ['github_pat_'],
    pattern: /(github_pat_[A-Za-z0-9]{20,30}_[A-Za-z0-9]{50,70})(?![A-Za-z0-9_])/g,
    minEntropy: 4,
  },
  {
    id: 'gitlab-token',
    description: 'GitLab token (personal, deploy, runner, trigger, OAuth, feed...)',
    keywords: ['glpat-', 'gldt-', 'glrt-', 'glptt-', 'glsoat-', 'glcbt-', 'gloas-', 'glft-', 'glimt-', 'glagent-', 'glffct-', 'glwt-', 'gr1348941'],
    pattern: /(?<![A-Za-z0-9_-])(gl(?:pat|dt|rt|ptt|soat|cbt|oas|ft|imt|agent|ffct|wt)-[A-Za-z0-9_.-]{20,120}|GR1348941[A-Za-z0-9_-]{20,60})(?![A-Za-z0-9_.-])/g,
    minEntropy: 3.3,
  },
  {
    id: 'bitbucket-app-password',
    description: 'Bitbucket / Atlassian app password',
    keywords: ['atbb'],
    pattern: /(?<![A-Za-z0-9_-])(ATBB[A-Za-z0-9_=.-]{28,40})(?![A-Za-z0-9_=.-])/g,
    minEntropy: 3.5,
  },
  {
    id: 'atlassian-api-token',
    description: 'Atlassian API token',
    keywords: ['atatt3'],
    pattern: /(?<![A-Za-z0-9_-])(ATATT3[A-Za-z0-9_=-]{100,300})(?![A-Za-z0-9_=-])/g,
  },
  {
    id: 'npm-token',
    description: 'npm access token',
    keywords: ['npm_'],
    pattern: /(?<![A-Za-z0-9_])(npm_[A-Za-z0-9]{36})(?![A-Za-z0-9_])/g,
    validator: 'prefixedCrc32',
  },
  {
    id: 'npmrc-auth',
    description: '.npmrc registry credential (_authToken / _auth / _password)',
    keywords: ['_authtoken', '_auth', '_password'],
    pattern: /(?:^|[:\s])(?:_authToken|_auth|_password)\s{0,3}=\s{0,3}["']?([^\s"']{8,512})/g,
    validator: 'secretLike',
  },
  {
    id: 'pypi-token',
    description: 'PyPI API token',
    keywords: ['pypi-age'],
    pattern: /(pypi-AgE[A-Za-z0-9_-]{50,400})(?![A-Za-z0-9_-])/g,
    window: { before: 2, after: 420 },
  },
  {
    id: 'rubygems-token',
    description: 'RubyGems API key',
    keywords: ['rubygems_'],
    pattern: /(rubygems_[a-f0-9]{48})(?![a-f0-9])/g,
  },
  {
    id: 'docker-hub-token',
    description: 'Docker Hub personal / organisation access token',
    keywords: ['dckr_pat_', 'dckr_oat_'],
    pattern: /(dckr_(?:pat|oat)_[A-Za-z0-9_-]{24,40})(?![A-Za-z0-9_-])/g,
  },
  {
    id: 'docker-config-auth',
    description: 'Docker config "auth" (base64 user:password)',
    keywords: ['"auth"'],
    pattern: /"auth"\s{0,3}:\s{0,3}"([A-Za-z0-9+/]{8,1000}={0,2})"/g,
    validator: 'basicCredentials',
    noPlaceholderCheck: true,
  },
  {
    id: 'postman-api-key',
    description: 'Postman API key',
    keywords: ['pmak-'],
    pattern: /(PMAK-[a-f0-9]{24}-[a-f0-9]{34})(?![a-f0-9])/g,
  },
  {
    id: 'sentry-token',
    description: 'Sentry auth token',
    keywords: ['sntrys_', 'sntryu_'],
    pattern: /(sntry[su]_[A-Za-z0-9+/=_-]{40,400})(?![A-Za-z0-9+/=_-])/g,
    window: { before: 2, after: 420 },
  },
  {
    id: 'grafana-token',
    description: 'Grafana cloud / service account / API token',
    keywords: ['glc_', 'glsa_', 'eyjrijoi'],
    pattern: /(?<![A-Za-z0-9_-])(glc_[A-Za-z0-9+/]{32,400}={0,2}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|eyJrIjoi[A-Za-z0-9+/]{40,300}={0,2})(?![A-Za-z0-9+/=_])/g,
    window: { before: 2, after: 420 },
  },
  {
    id: 'newrelic-key',
    description: 'New Relic API / insert / license key',
    keywords: ['nrak-', 'nraa-', 'nrii-', 'nriq-', 'nral'],
    pattern: /(?<![A-Za-z0-9_-])(NR(?:AK|AA|II|IQ)-[A-Za-z0-9_-]{19,40}|[a-f0-9]{36}NRAL)(?![A-Za-z0-9_-])/g,
    window: { before: 40, after: 50 },
  },
  {
    id: 'dynatrace-token',
    description: 'Dynatrace API token',
    keywords: ['dt0c01.'],
    pattern: /(dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64})(?![A-Z0-9])/g,
  },
  {
    id: 'doppler-token',
    description: 'Doppler token',
    keywords: ['dp.pt.', 'dp.st.', 'dp.sa.', 'dp.ct.', 'dp.scim.', 'dp.audit.'],
    pattern: /(dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44})(?![A-Za-z0-9])/g,
  },
  {
    id: 'tailscale-key',
    description: 'Tailscale key',
    keywords: ['tskey-'],
    pattern: /(tskey-[a-z]{3,8}-[A-Za-z0-9]{8,20}-[A-Za-z0-9]{20,60})(?![A-Za-z0-9])/g,
  },
  {
    id: 'buildkite-token',
    description: 'Buildkite agent / API token',
    keywords: ['bkua_'],
    pattern: /(bkua_[a-f0-9]{40})(?![a-f0-9])/g,
  },

  // --- Chat and collaboration -----------------------------------------------------------------
  {
    id: 'slack-token',
    description: 'Slack token',
    keywords: ['xoxb-', 'xoxp-', 'xoxa-', 'xoxo-', 'xoxs-', 'xoxr-', 'xoxe-', 'xoxe.', 'xapp-'],
    pattern: /(?<![A-Za-z0-9_-])(xox(?:[abposr]|e(?:\.xox[bp])?)-(?=[0-9A-Za-z-]{0,40}\d)[0-9A-Za-z-]{10,250}|xapp-\d-[A-Z0-9]{8,14}-\d{6,16}-[A-Za-z0-9]{20,80})(?![A-Za-z0-9-])/g,
    minEntropy: 3,
  },
  {
    id: 'slack-webhook',
    description: 'Slack incoming webhook / workflow URL',
    keywords: ['hooks.slack.com'],
    pattern: /hooks\.slack\.com\/(?:services|workflows|triggers)\/([A-Za-z0-9_/-]{20,150})/g,
    minEntropy: 3,
    window: { before: 2, after: 200 },
  },
  {
    id: 'discord-webhook',
    description: 'Discord webhook URL',
    keywords: ['/api/webhooks/'],
    pattern: /discord(?:app)?\.com\/api\/webhooks\/(\d{17,20}\/[A-Za-z0-9_-]{60,72})/g,
    window: { before: 30, after: 120 },
  },
  {
    id: 'discord-bot-token',
    description: 'Discord bot token',
    keywords: [],
    pattern: /[MNO](?<![A-Za-z0-9_-][MNO])([A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40})(?![A-Za-z0-9_-])/g,
    groups: [0],
    validator: 'discord',
  },
  {
    id: 'telegram-bot-token',
    description: 'Telegram bot token',
    keywords: [':aa'],
    pattern: /(?:(?<=\/bot)|(?<![A-Za-z0-9_:-]))(\d{8,10}:AA[A-Za-z0-9_-]{33})(?![A-Za-z0-9_-])/g,
    window: { before: 16, after: 40 },
  },
  {
    id: 'linear-api-key',
    description: 'Linear API key',
    keywords: ['lin_api_', 'lin_oauth_'],
    pattern: /(lin_api_[A-Za-z0-9]{40}|lin_oauth_[a-f0-9]{64})(?![A-Za-z0-9])/g,
  },
  {
    id: 'notion-token',
    description: 'Notion integration token',
    keywords: ['ntn_', 'secret_'],
    pattern: /(?<![A-Za-z0-9_-])(ntn_[A-Za-z0-9]{40,50}|secret_[A-Za-z0-9]{43})(?![A-Za-z0-9_-])/g,
    minEntropy: 3.8,
  },
  {
    id: 'figma-token',
    description: 'Figma personal access token',
    keywords: ['figd_'],
    pattern: /(figd_[A-Za-z0-9_-]{40,45})(?![A-Za-z0-9_-])/g,
  },
  {
    id: 'airtable-token',
    description: 'Airtable personal access token',
    keywords: ['pat'],
    pattern: /(?<![A-Za-z0-9_-])(pat[A-Za-z0-9]{14}\.[a-f0-9]{64})(?![A-Za-z0-9])/g,
    window: { before: 2, after: 90 },
  },

  // --- Payments, commerce, mail ---------------------------------------------------------------
  {
    id: 'stripe-secret-key',
    description: 'Stripe secret or restricted key',
    keywords: ['sk_live_', 'sk_test_', 'rk_live_', 'rk_test_'],
    pattern: /(?<![A-Za-z0-9_])((?:sk|rk)_(?:live|test)_[A-Za-z0-9]{20,247})(?![A-Za-z0-9])/g,
    minEntropy: 3.5,
  },
  {
    id: 'stripe-webhook-secret',
    description: 'Stripe webhook signing secret',
    keywords: ['whsec_'],
    pattern: /(whsec_[A-Za-z0-9+/]{24,80})(?![A-Za-z0-9+/])/g,
    minEntropy: 3.5,
  },
  {
    id: 'square-token',
    description: 'Square access token / application secret',
    keywords: ['sq0atp-', 'sq0csp-', 'eaaa'],
    pattern: /(?<![A-Za-z0-9_-])(sq0(?:atp|csp)-[0-9A-Za-z_-]{22,60}|EAAA[A-Za-z0-9_-]{56,64})(?![A-Za-z0-9_-])/g,
    minEntropy: 3.5,
  },
  {
    id: 'shopify-token',
    description: 'Shopify access token / shared secret',
    keywords: ['shpat_', 'shpca_', 'shppa_', 'shpss_'],
    pattern: /(shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})(?![a-fA-F0-9])/g,
  },
  {
    id: 'sendgrid-api-key',
    description: 'SendGrid API key',
    keywords: ['sg.'],
    pattern: /(?<![A-Za-z0-9_-])(SG\.[A-Za-z0-9_-]{20,24}\.[A-Za-z0-9_-]{39,50})(?![A-Za-z0-9_-])/g,
  },
  {
    id: 'mailgun-api-key',
    description: 'Mailgun API / signing key',
    keywords: ['key-', 'mailgun'],
    pattern: /(?<![A-Za-z0-9_-])(key-[0-9a-f]{32})(?![A-Za-z0-9])|(?<![A-Za-z0-9])([0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8})(?![A-Za-z0-9-])/g,
    groups: [1, 2],
    window: { before: 200, after: 300 },
  },
  {
    id: 'mailchimp-api-key',
    description: 'Mailchimp API key',
    keywords: ['-us'],
    pattern: /(?<![A-Za-z0-9])([0-9a-f]{32}-us\d{1,2})(?![A-Za-z0-9])/g,
    window: { before: 34, after: 10 },
  },
  {
    id: 'brevo-api-key',
    description: 'Brevo (Sendinblue) API key',
    keywords: ['xkeysib-', 'xsmtpsib-'],
    pattern: /(x(?:keysib|smtpsib)-[a-f0-9]{64}-[A-Za-z0-9]{16})(?![A-Za-z0-9])/g,
  },
  {
    id: 'resend-api-key',
    description: 'Resend API key',
    keywords: ['re_'],
    pattern: /(?<![A-Za-z0-9_-])(re_[A-Za-z0-9]{8}_[A-Za-z0-9]{24})(?![A-Za-z0-9_])/g,
    minEntropy: 3.5,
  },
  {
    id: 'twilio-api-key',
    description: 'Twilio API key SID',
    keywords: [],
    pattern: /SK(?<![A-Za-z0-9]SK)([0-9a-f]{32})(?![A-Za-z0-9])/g,
    groups: [0],
    minEntropy: 3.2,
  },
  {
    id: 'twilio-auth-token',
    description: 'Twilio auth token',
    keywords: ['twilio'],
    pattern: /(?:auth[_\s-]?token|secret)[\w"' ]{0,10}?(?:=|:|\bis\b)\s{0,5}["']?([a-f0-9]{32})(?![A-Za-z0-9])/gi,
    window: { before: 200, after: 300 },
    minEntropy: 3.2,
  },

  // --- AI providers ---------------------------------------------------------------------------
  {
    id: 'anthropic-api-key',
    description: 'Anthropic API key',
    keywords: ['sk-ant-'],
    pattern: /(sk-ant-(?:api\d{2}|admin\d{2}|oat\d{2}|sid\d{2}|[a-z]{2,8}\d{0,3})-[A-Za-z0-9_-]{32,200})(?![A-Za-z0-9_-])/g,
    minEntropy: 3.5,
  },
  {
    id: 'openai-api-key',
    description: 'OpenAI API key',
    keywords: ['sk-proj-', 'sk-svcacct-', 'sk-admin-', 'sk-none-', 't3blbkfj'],
    pattern: /(?<![A-Za-z0-9_-])(sk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{20,250}|sk-[A-Za-z0-9_-]{10,100}T3BlbkFJ[A-Za-z0-9_-]{10,100})(?![A-Za-z0-9_-])/g,
    minEntropy: 3.5,
    window: { before: 110, after: 260 },
  },
  {
    id: 'ai-api-key',
    description: 'AI provider API key (sk-..., gsk_, r8_, pplx-, xai-)',
    keywords: ['sk-', 'gsk_', 'r8_', 'pplx-', 'xai-'],
    pattern: /(?<![A-Za-z0-9_-])(sk-[A-Za-z0-9]{32,64}|gsk_[A-Za-z0-9]{48,56}|r8_[A-Za-z0-9]{37}|pplx-[A-Za-z0-9]{40,56}|xai-[A-Za-z0-9]{70,90})(?![A-Za-z0-9_-])/g,
    validator: 'secretLike',
    minEntropy: 3.3,
  },
  {
    id: 'huggingface-token',
    description: 'Hugging Face access token',
    keywords: ['hf_', 'api_org_'],
    pattern: /(?<![A-Za-z0-9_])(hf_[A-Za-z0-9]{30,40}|api_org_[A-Za-z0-9]{30,40})(?![A-Za-z0-9_])/g,
    minEntropy: 3.5,
  },
  {
    id: 'langsmith-api-key',
    description: 'LangSmith API key',
    keywords: ['lsv2_'],
    pattern: /(lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10})(?![a-f0-9])/g,
  },
  {
    id: 'pinecone-api-key',
    description: 'Pinecone API key',
    keywords: ['pcsk_'],
    pattern: /(pcsk_[A-Za-z0-9_]{40,100})(?![A-Za-z0-9_])/g,
  },
  {
    id: 'supabase-token',
    description: 'Supabase access token / secret key',
    keywords: ['sbp_', 'sb_secret_'],
    pattern: /(sbp_[a-f0-9]{40}|sb_secret_[A-Za-z0-9_-]{20,60})(?![A-Za-z0-9_-])/g,
  },
  {
    id: 'planetscale-token',
    description: 'PlanetScale token / password',
    keywords: ['pscale_'],
    pattern: /(pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_.-]{32,64})(?![A-Za-z0-9_.-])/g,
  },
  {
    id: 'facebook-access-token',
    description: 'Facebook / Meta access token',
    keywords: ['eaab', 'eaac', 'eaag'],
    pattern: /(?<![A-Za-z0-9_-])(EAA[BCG][A-Za-z0-9]{80,400})(?![A-Za-z0-9_-])/g,
    window: { before: 2, after: 420 },
  },
  {
    id: 'mapbox-secret-token',
    description: 'Mapbox secret token',
    keywords: ['sk.eyj'],
    pattern: /(sk\.eyJ[A-Za-z0-9_-]{50,300}\.[A-Za-z0-9_-]{20,40})(?![A-Za-z0-9_-])/g,
    window: { before: 2, after: 360 },
  },
  {
    id: 'dropbox-token',
    description: 'Dropbox access token',
    keywords: ['sl.'],
    pattern: /(?<![A-Za-z0-9_.-])(sl\.(?:u\.)?[A-Za-z0-9_-]{130,1400})(?![A-Za-z0-9_-])/g,
    window: { before: 2, after: 1420 },
  },
  {
    id: 'jfrog-token',
    description: 'JFrog API key / identity token',
    keywords: ['akcp', 'cmvmdg'],
    pattern: /(?<![A-Za-z0-9])(AKCp[A-Za-z0-9]{69}|cmVmdGtu[A-Za-z0-9]{56})(?![A-Za-z0-9])/g,
  },

  {
    id: 'teams-webhook',
    description: 'Microsoft Teams / Power Automate incoming webhook URL',
    keywords: ['webhook.office.com', 'webhookb2'],
    pattern: /webhook\.office\.com\/webhookb2\/([A-Za-z0-9@-]{20,200}\/IncomingWebhook\/[A-Za-z0-9]{32}\/[A-Za-z0-9-]{36}(?:\/[A-Za-z0-9_-]{20,80})?)/g,
    window: { before: 40, after: 400 },
  },
  {
    id: 'firebase-server-key',
    description: 'Firebase Cloud Messaging server key',
    keywords: ['apa91b'],
    pattern: /(?<![A-Za-z0-9_-])(AAAA[A-Za-z0-9_-]{7}:APA91b[A-Za-z0-9_-]{120,160})(?![A-Za-z0-9_-])/g,
    window: { before: 14, after: 180 },
  },

  // --- Generic token shapes -------------------------------------------------------------------
  {
    id: 'jwt',
    description: 'JSON Web Token',
    keywords: ['eyj'],
    pattern: /(?<![A-Za-z0-9_-])(eyJ[A-Za-z0-9_-]{8,4000}\.eyJ[A-Za-z0-9_-]{8,8000}\.[A-Za-z0-9_-]{0,2000})(?![A-Za-z0-9_-])/g,
    validator: 'jwt',
    window: { before: 2, after: 14100 },
  },
  {
    id: 'password-hash',
    description: 'password hash in a password file line (crypt / bcrypt / argon2)',
    keywords: ['$2a$', '$2b$', '$2y$', '$2x$', '$1$', '$5$', '$6$', '$y$', '$apr1$', '$argon2'],
    // Only as a password file line ("root:$6$...", "user:$apr1$..." in /etc/shadow or .htpasswd),
    // so documentation that shows a sample hash is not a finding.
    pattern: /(?<=(?:^|[\s"'])[A-Za-z0-9_.@-]{1,64}:)(\$(?:2[abxy]\$\d{2}\$[./A-Za-z0-9]{53}|[156]\$(?:rounds=\d{1,7}\$)?[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{22,100}|apr1\$[./A-Za-z0-9]{1,8}\$[./A-Za-z0-9]{22}|y\$[./A-Za-z0-9]{1,10}\$[./A-Za-z0-9]{1,40}\$[./A-Za-z0-9]{40,50}|argon2(?:id|i|d)\$v=\d{1,3}\$m=\d{1,8},t=\d{1,4},p=\d{1,3}\$[A-Za-z0-9+/]{8,64}\$[A-Za-z0-9+/]{16,128}))(?![./A-Za-z0-9])/g,
    window: { before: 2, after: 220 },
  },

  // --- Credentials in URLs, headers and command lines -----------------------------------------
  {
    id: 'url-credentials',
    description: 'credentials in a URL (scheme://user:password@host)',
    keywords: ['://'],
    pattern: /(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{1,30}):\/\/([^\s:/?#@"'<>[\]]{0,128}):([^\s/@"'<>[\]]{1,256})@([A-Za-z0-9[][A-Za-z0-9.:[\]_-]{0,253})/g,
    groups: [3],
    validator: 'urlCredentials',
    window: { before: 32, after: 420 },
    noPlaceholderCheck: true,
  },
  {
    id: 'http-basic-auth',
    description: 'HTTP Basic credentials (Authorization: Basic)',
    keywords: ['basic'],
    pattern: /\bBasic\s{1,3}([A-Za-z0-9+/]{6,500}={0,2})(?![A-Za-z0-9+/=])/gi,
    validator: 'basicCredentials',
    window: { before: 2, after: 520 },
    noPlaceholderCheck: true,
  },
  {
    id: 'http-bearer-token',
    description: 'Bearer token (Authorization: Bearer)',
    keywords: ['bearer'],
    pattern: /\bBearer\s{1,3}([A-Za-z0-9._~+/-]{12,4000}={0,2})(?![A-Za-z0-9._~+/=-])/gi,
    validator: 'secretLike',
    window: { before: 2, after: 4100 },
  },
  {
    id: 'http-authorization',
    description: 'Authorization header credential (token, SSWS, Bot, ApiKey...)',
    keywords: ['authorization', 'ssws'],
    pattern: /(?:Authorization["']?\s{0,3}[:=]\s{0,3}["']?(?:(?:token|SSWS|Bot|ApiKey|Api-Key|Key|OAuth|Splunk|GenieKey|Token|Digest|Negotiate|AWS4-HMAC-SHA256[^"'\r\n]{0,200}?Signature=)\s{0,3})?|\bSSWS\s{1,3})([A-Za-z0-9._~+/=-]{12,2000})/gi,
    validator: 'secretLike',
    window: { before: 2, after: 2400 },
  },
  {
    id: 'code-basic-auth',
    description: 'user and password passed to an HTTP client in code (auth=("user", "password"))',
    keywords: ['auth'],
    pattern: /(?:auth|HTTPBasicAuth|HTTPDigestAuth|BasicAuth|basic_auth|basicAuth|setBasicAuth)\s{0,3}(?:=\s{0,3})?[([{]\s{0,3}["']([^"'\r\n]{1,64})["']\s{0,3},\s{0,3}["']([^"'\r\n]{3,128})["']/g,
    groups: [2],
    validator: 'passwordLike',
    window: { before: 16, after: 240 },
  },
  {
    id: 'netrc-password',
    description: '.netrc credentials',
    keywords: ['machine'],
    pattern: /\bmachine\s{1,10}\S{1,200}\s{1,10}login\s{1,10}\S{1,200}\s{1,10}password\s{1,10}(\S{3,256})/g,
    validator: 'passwordLike',
    window: { before: 2, after: 700 },
  },
  {
    id: 'cli-credentials',
    description: 'credential on a command line (--password, -u user:pass, mysql -p...)',
    keywords: ['--pass', '--token', '--api-key', '--apikey', '--secret', '--client-secret', '--auth-token', '--access-token', '-u ', '--user', 'mysql', 'sshpass'],
    pattern: /(?:^|\s)--(?:password|passwd|pass|token|api-key|apikey|secret|client-secret|auth-token|access-token)(?:=|\s{1,3})["']?([^\s"']{4,256})|(?:^|\s)(?:-u|--user)\s{1,3}["']?([^\s:"']{1,64}:[^\s"']{3,256})|(?:mysql|mysqldump|mariadb)\b[^\n]{0,200}?\s-p["']?([^\s"']{3,128})|sshpass\s{1,3}-p\s{0,3}["']?([^\s"']{3,128})/g,
    groups: [1, 2, 3, 4],
    validator: 'userPassPair',
    window: { before: 2, after: 400 },
  },

  // --- Generic assignments and prose (last: specific rules win the same characters) -----------
  {
    id: 'password-assignment',
    description: 'password assigned in code, config or a connection string',
    keywords: ['pass', 'pwd', 'pw', 'passwort', 'kennwort', 'wachtwoord', 'contraseña', 'contrasena', 'senha', 'lösenord', 'losenord', 'adgangskode', 'passord', 'salasana', 'hasło', 'haslo', 'heslo', 'jelszó', 'jelszo', 'parola', 'şifre', 'sifre', 'mdp', 'motdepasse', 'mot_de_passe', 'пароль'],
    pattern: new RegExp(String.raw`(?<![A-Za-z0-9_.-])(["']?)(?<key>[A-Za-z0-9_.-]{0,40}?${PASSWORD_WORDS}[A-Za-z0-9_.-]{0,30})\1(?:\*{1,3}|__?)?\s{0,5}(?:=>|:=|::|=|:|：)\s{0,5}${PASSWORD_VALUE}`, 'gi'),
    groups: [3, 4, 5, 6],
    validator: 'passwordAssignment',
    anchor: { back: 40, chars: 'A-Za-z0-9_.-', prefix: `"'`, then: '=:：' },
  },
  {
    id: 'secret-assignment',
    description: 'secret, token or API key assigned in code, config or headers',
    keywords: ['secret', 'token', 'key', 'credential', 'auth', 'pat'],
    pattern: new RegExp(String.raw`(?<![A-Za-z0-9_.-])(["']?)(?<key>[A-Za-z0-9_.-]{0,40}?(?:secret|token|key|credential|auth|(?<![A-Za-z])pat(?![a-z]))[A-Za-z0-9_.-]{0,30})\1(?:\*{1,3}|__?)?\s{0,5}(?:=>|:=|::|=|:|：)\s{0,5}${VALUE}`, 'gi'),
    groups: [3, 4, 5, 6],
    validator: 'secretAssignment',
    anchor: { back: 40, chars: 'A-Za-z0-9_.-', prefix: `"'`, then: '=:：' },
  },
  {
    id: 'credential-xml-element',
    description: 'password or secret in an XML element',
    keywords: ['pass', 'pwd', 'secret', 'token', 'key', 'credential'],
    pattern: /<(?<key>(?:[A-Za-z0-9_.-]{0,30}:)?[A-Za-z0-9_.-]{0,30}?(?:pass(?:word|wd|phrase)?|pwd|secret|token|key|credential)[A-Za-z0-9_.-]{0,30})(?:\s[^<>]{0,200})?>\s{0,5}([^<>\r\n]{1,256}?)\s{0,5}<\/\1>/gi,
    groups: [2],
    validator: 'secretAssignment',
    anchor: { back: 62, chars: 'A-Za-z0-9_.:-', prefix: '<', prefixRequired: true },
  },
  {
    id: 'credential-prose',
    description: 'password or token given in prose ("the password is ...")',
    keywords: ['password', 'passphrase', 'passcode', 'pass code', 'pwd', 'pw', 'passwort', 'kennwort', 'mot de passe', 'mdp', 'contraseña', 'contrasena', 'clave', 'senha', 'palavra-passe', 'wachtwoord', 'lösenord', 'losenord', 'adgangskode', 'passord', 'salasana', 'hasło', 'haslo', 'heslo', 'jelszó', 'jelszo', 'parola', 'şifre', 'sifre', 'пароль', 'パスワード', '密码', '密碼', '口令', '비밀번호', 'كلمة المرور', 'סיסמה', 'mật khẩu', 'รหัสผ่าน', 'κωδικός', 'kata sandi', 'contrasenya', 'lozinka', 'geslo', 'parool', 'slaptažodis', 'token', 'jeton', 'токен', 'api key', 'api-key', 'apikey', 'api token', 'api-schlüssel', 'clé ', 'cle api', 'chave', 'access key', 'secret', 'geheimnis', 'credential', 'login'],
    // The rest of the line is parsed by the validator ("for the db", "is", "lautet", then the value).
    pattern: new RegExp(String.raw`(?<![A-Za-z0-9_:/.=?&-])(?<key>${PROSE_KEYS})(?![A-Za-z])([^\r\n]{1,200})`, 'gi'),
    groups: [2],
    validator: 'credentialProse',
    anchor: { back: 0, chars: '' },
  },
];
