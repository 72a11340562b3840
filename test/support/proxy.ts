/**
 * A forwarding HTTP proxy on loopback, as a corporate proxy behaves for a CI runner: plain HTTP
 * requests in absolute form (`GET http://host:port/path`) are forwarded with a `Via` header added
 * (RFC 9110, section 7.6.3: a proxy MUST send one), and `CONNECT host:port` opens a TCP tunnel (for
 * HTTPS). It records what it forwarded and the local ports of its upstream connections, so a test
 * can tell whether a request reached a stand-in through it.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import { readFileSync } from 'node:fs'
import { connect, type AddressInfo, type Socket } from 'node:net'
import { createServer as createTlsServer } from 'node:tls'

/** The token this proxy puts in `Via` (a stand-in records the header). */
export const VIA = '1.1 arc-test-proxy'

export interface Forwarded { method: string, target: string }

export interface TestProxy {
  url: string
  /** Every request forwarded (plain) or tunnelled (CONNECT), in order. */
  forwarded: Forwarded[]
  /** Local ports of the connections it opened upstream (a stand-in sees them as the remote port). */
  upstreamPorts: Set<number>
  close (): Promise<void>
}

export async function startProxy (): Promise<TestProxy> {
  const forwarded: Forwarded[] = []
  const upstreamPorts = new Set<number>()
  const sockets = new Set<Socket>()
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let target: URL
    try { target = new URL(req.url ?? '') }
    catch {
      res.writeHead(400).end('absolute-form request target expected')
      return
    }
    forwarded.push({ method: req.method ?? 'GET', target: target.href })
    const headers: Record<string, string | string[] | undefined> = { ...req.headers, via: req.headers.via ? `${req.headers.via}, ${VIA}` : VIA }
    delete headers['proxy-connection']
    const up = httpRequest({ host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: req.method, headers, agent: false }, answer => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    up.on('socket', s => s.once('connect', () => { if (s.localPort) upstreamPorts.add(s.localPort) }))
    up.on('error', () => { if (!res.headersSent) res.writeHead(502); res.end() })
    req.pipe(up)
  })
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    forwarded.push({ method: 'CONNECT', target: req.url ?? '' })
    const [host = '', port = '443'] = (req.url ?? '').split(/:(?=\d+$)/)
    const up = connect(Number(port), host, () => {
      if (up.localPort) upstreamPorts.add(up.localPort)
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length) up.write(head)
      up.pipe(client)
      client.pipe(up)
    })
    sockets.add(up)
    up.on('close', () => sockets.delete(up))
    up.on('error', () => client.destroy())
    client.on('error', () => up.destroy())
  })
  server.on('connection', s => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    forwarded,
    upstreamPorts,
    async close () {
      server.close()
      for (const s of sockets) s.destroy()
      server.closeAllConnections()
    },
  }
}

/** The self-signed certificate (and its key) of the loopback TLS front: for 127.0.0.1 and localhost, test use only. */
export const LOOPBACK_CERT = new URL('./tls/loopback.crt', import.meta.url).pathname
const LOOPBACK_KEY = new URL('./tls/loopback.key', import.meta.url).pathname

export interface TlsFront {
  /** https://127.0.0.1:<port>: AWS_ENDPOINT_URL for a client that trusts LOOPBACK_CERT (NODE_EXTRA_CA_CERTS). */
  url: string
  /** Remote ports of the TLS connections it accepted (a proxy's upstream ports, when tunnelled). */
  acceptedFrom: number[]
  /** Local ports of its connections to the target (the target sees them as remote ports). */
  upstreamPorts: Set<number>
  close (): Promise<void>
}

/** HTTPS in front of a loopback HTTP stand-in: TLS terminated here, bytes piped to `target`. */
export async function startTlsFront (target: string): Promise<TlsFront> {
  const to = new URL(target)
  const acceptedFrom: number[] = []
  const upstreamPorts = new Set<number>()
  const sockets = new Set<Socket>()
  const server = createTlsServer({ key: readFileSync(LOOPBACK_KEY), cert: readFileSync(LOOPBACK_CERT) }, client => {
    if (client.remotePort) acceptedFrom.push(client.remotePort)
    const up = connect(Number(to.port), to.hostname, () => {
      if (up.localPort) upstreamPorts.add(up.localPort)
      up.pipe(client)
      client.pipe(up)
    })
    for (const s of [client, up]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
    }
    up.on('error', () => client.destroy())
    client.on('error', () => up.destroy())
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    acceptedFrom,
    upstreamPorts,
    async close () {
      server.close()
      for (const s of sockets) s.destroy()
    },
  }
}
