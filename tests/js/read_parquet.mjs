// Reads Parquet files with two readers that share no code with the server (DuckDB's
// engine, and hyparquet in pure JavaScript) and prints, per file and reader, the
// column names and types and every row as JSON. BigInt (INT64) values print as
// {"int64": "<digits>"}, so the caller compares them exactly.
// Usage: node read_parquet.mjs FILE...
import fs from 'node:fs'
import { parquetMetadata, parquetReadObjects, parquetSchema } from 'hyparquet'
import { DuckDBInstance } from '@duckdb/node-api'

const big = (_k, v) => (typeof v === 'bigint' ? { int64: v.toString() } : v)

const instance = await DuckDBInstance.create(':memory:')
const conn = await instance.connect()
const out = {}
for (const file of process.argv.slice(2)) {
  const buf = fs.readFileSync(file)
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)
  const meta = parquetMetadata(ab)
  const schema = parquetSchema(meta)
  const hyColumns = schema.children.map(c => ({ name: c.element.name, type: c.element.type, logical: c.element.logical_type?.type ?? c.element.converted_type ?? null }))
  const hyRows = await parquetReadObjects({ file: ab })

  const lit = file.replaceAll("'", "''")
  const desc = await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${lit}')`)
  const duckColumns = desc.getRowObjects().map(r => ({ name: r.column_name, type: r.column_type }))
  const sel = await conn.runAndReadAll(`SELECT * FROM read_parquet('${lit}')`)
  const duckRows = sel.getRowObjects().map(r => {
    const o = {}
    for (const [k, v] of Object.entries(r)) o[k] = v
    return o
  })
  out[file] = {
    num_row_groups: meta.row_groups.length,
    hyparquet: { columns: hyColumns, rows: hyRows },
    duckdb: { columns: duckColumns, rows: duckRows },
  }
}
process.stdout.write(JSON.stringify(out, big))
