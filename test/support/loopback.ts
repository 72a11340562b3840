/**
 * The HTTP server under every loopback stand-in (test/support/gitlab.ts, test/support/aws.ts):
 * it listens on 127.0.0.1 (a free port unless one is given), knows its base URL, and keeps
 * track of its connections so that close() also ends requests a stand-in left hanging.
 */
import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

export interface Loopback {
  server: Server
  port: number
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string
  /** Stop listening and drop every open connection at once. */
  close (): Promise<void>
}

/** Start `listener` on 127.0.0.1, on `port` (0: any free port). */
export async function listenLoopback (listener: RequestListener, port = 0): Promise<Loopback> {
  const server = createServer(listener)
  const sockets = new Set<Socket>()
  server.on('connection', socket => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>(resolve => server.listen(port, '127.0.0.1', resolve))
  const bound = (server.address() as AddressInfo).port
  return {
    server,
    port: bound,
    url: `http://127.0.0.1:${bound}`,
    async close () {
      server.close()
      for (const s of sockets) s.destroy()
      server.closeAllConnections()
    },
  }
}
