/** Connection settings of the test PostgreSQL (trust auth on loopback), overridable by the usual PG* variables. */
export const PG = { host: process.env['PGHOST'] ?? '127.0.0.1', port: Number(process.env['PGPORT'] ?? 5432), user: process.env['PGUSER'] ?? 'postgres', database: process.env['PGDATABASE'] ?? 'test' };
