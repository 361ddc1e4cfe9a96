// A bittorrent-dht (webtorrent's DHT, an independent implementation) node for
// test_dht.py: listens on --host (a 127.0.0.x), bootstraps from --bootstrap
// host:port, then takes one command per line on stdin:
//   announce <infohash hex> <port>   -> {"event":"announced", ...} or "error"
//   lookup <infohash hex>            -> {"event":"peer", ...} per peer found
//                                       ("from" is the node that returned it,
//                                       "own store" when it was announced to us),
//                                       then {"event":"lookup_done", ...}
//   nodes                            -> {"event":"nodes","count":N}
// Every reply is one JSON line on stdout. Exits when stdin closes.
import DHT from 'bittorrent-dht'
import readline from 'node:readline'

function arg (name, dflt) {
  const i = process.argv.indexOf('--' + name)
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt
}

function out (o) {
  process.stdout.write(JSON.stringify(o) + '\n')
}

const host = arg('host', '127.0.0.6')
const port = parseInt(arg('port', '0'), 10)
const bootstrap = arg('bootstrap', '')
const dht = new DHT({ bootstrap: bootstrap ? bootstrap.split(',') : [], host })

dht.on('error', (err) => { out({ event: 'error', error: String(err) }); process.exit(2) })
dht.on('warning', (err) => out({ event: 'warning', error: String(err) }))
dht.on('peer', (peer, infoHash, from) => {
  out({ event: 'peer', infohash: infoHash.toString('hex'), peer: peer.host + ':' + peer.port,
        from: from ? from.address + ':' + from.port : 'own store' })
})
dht.on('ready', () => out({ event: 'ready', nodes: dht.toJSON().nodes.length }))

dht.listen(port, host, () => out({ event: 'listening', port: dht.address().port }))

const HEX40 = /^[0-9a-f]{40}$/
const rl = readline.createInterface({ input: process.stdin })
rl.on('line', (line) => {
  const w = line.trim().split(/\s+/)
  if (w[0] === 'announce' && HEX40.test(w[1] || '') && /^\d+$/.test(w[2] || '')) {
    dht.announce(w[1], parseInt(w[2], 10), (err) => {
      out(err ? { event: 'error', cmd: 'announce', error: String(err) }
              : { event: 'announced', infohash: w[1] })
    })
  } else if (w[0] === 'lookup' && HEX40.test(w[1] || '')) {
    dht.lookup(w[1], (err, n) => {
      out(err ? { event: 'error', cmd: 'lookup', error: String(err) }
              : { event: 'lookup_done', infohash: w[1], nodes_with_peers: n })
    })
  } else if (w[0] === 'nodes') {
    out({ event: 'nodes', count: dht.toJSON().nodes.length })
  } else {
    out({ event: 'error', error: 'bad command: ' + line.slice(0, 100) })
  }
})
rl.on('close', () => dht.destroy(() => process.exit(0)))
