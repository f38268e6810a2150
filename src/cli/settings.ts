/**
 * The standalone server's settings, all read from the environment by `loadConfig()`. `--help`
 * prints this list; a test checks that every variable `loadConfig()` reads is on it.
 */
export interface SettingHelp {
  name: string;
  default: string;
  meaning: string;
}

export const SERVER_SETTINGS: readonly SettingHelp[] = [
  {
    name: 'DB_URL',
    default: 'sqlite:./data/devlake-webhook.sqlite',
    meaning:
      'sqlite:<file> (created on first start; needs better-sqlite3) or mysql://user:pass@host:3306/db (also mariadb://; needs mysql2) or postgres://user:pass@host:5432/db (needs pg)',
  },
  { name: 'PORT', default: '4000', meaning: 'port to listen on' },
  { name: 'HOST', default: '127.0.0.1', meaning: 'address to listen on' },
  {
    name: 'ADMIN_USER, ADMIN_PASS',
    default: 'none',
    meaning: 'Basic credentials (DevLake’s names); required to listen on a non-loopback HOST',
  },
  {
    name: 'ALLOW_UNAUTHENTICATED',
    default: 'false',
    meaning: 'listen on a public address without credentials, when a proxy in front authenticates',
  },
  {
    name: 'ENCRYPTION_SECRET',
    default: 'generated once, kept in the database',
    meaning: 'HMAC secret of API keys; set DevLake’s to keep its keys working',
  },
  { name: 'BODY_LIMIT_BYTES', default: '1048576', meaning: 'larger bodies answer 413' },
  { name: 'BATCH_BODY_LIMIT_BYTES', default: '33554432', meaning: 'the same for the batch route (X/batch)' },
  { name: 'LOG_LEVEL', default: 'info', meaning: 'pino level (trace, debug, info, warn, error, fatal, silent)' },
  {
    name: 'SHUTDOWN_TIMEOUT_MS',
    default: '10000',
    meaning: 'on SIGTERM/SIGINT, time for requests in flight before connections are cut',
  },
  {
    name: 'DB_TIMEOUT_MS',
    default: '10000',
    meaning: 'longest wait on the database before a request answers 503 with Retry-After',
  },
  { name: 'RATE_LIMIT_WINDOW_MS', default: '60000', meaning: 'window of the rate limits' },
  { name: 'RATE_LIMIT_PER_KEY', default: '600', meaning: 'requests per window for one API key or one Basic user' },
  {
    name: 'RATE_LIMIT_PER_ADDRESS',
    default: '120',
    meaning: 'requests per window for one client address without credentials',
  },
  {
    name: 'RATE_LIMIT_FAILED_PASSWORDS',
    default: '10',
    meaning: 'wrong Basic passwords one user name may send from one address per window; then 429',
  },
  {
    name: 'RATE_LIMIT_FAILED_PASSWORD_WINDOW_MS',
    default: '900000',
    meaning: 'window of the wrong-password count',
  },
  { name: 'RATE_LIMIT_DISABLED', default: 'false', meaning: 'true turns the rate limits off' },
  {
    name: 'TRUST_PROXY',
    default: 'false',
    meaning:
      'whose X-Forwarded-For/-Proto to believe: true, a number of hops, or addresses, subnets, loopback, linklocal, uniquelocal (comma-separated)',
  },
  {
    name: 'EVENT_LOG_RETENTION_DAYS',
    default: '30',
    meaning: 'events older than this are pruned; 0 keeps them whatever their age',
  },
  {
    name: 'EVENT_LOG_RETENTION_ROWS',
    default: '100000',
    meaning: 'at most this many events are kept (the newest); 0 for no limit',
  },
  { name: 'EVENT_LOG_DISABLED', default: 'false', meaning: 'true records no deliveries in the raw event log' },
  { name: 'METRICS_DISABLED', default: 'false', meaning: 'true turns off the Prometheus metrics at /metrics' },
];
