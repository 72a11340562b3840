/**
 * Jobs behind an HTTP(S) proxy: HTTPS_PROXY / HTTP_PROXY / NO_PROXY (and their lower-case
 * forms, which win, as in Node), through Node's own proxy support: an `http.Agent`/`https.Agent`
 * given `proxyEnv` sends plain HTTP to the proxy in absolute form and HTTPS through a CONNECT
 * tunnel, and honours NO_PROXY (Node 22.21 and 24.5, "built-in proxy support"; earlier Node
 * versions ignore the option, and the job log says so).
 *
 * - The exchange: the SDK's request handler gets agents with `proxyEnv` (exchange.ts).
 * - Architect's own calls: aws-lite creates its own agents (`new client.Agent({ keepAlive })`,
 *   @aws-lite/client src/request/request.js), which neither NODE_USE_ENV_PROXY nor
 *   `http.setGlobalProxyFromEnv()` reach: both configure the global agents only. So, in the `arc`
 *   process and only when a proxy variable is set, `http.Agent` and `https.Agent` become
 *   subclasses whose `proxyEnv` defaults to the job's proxy variables (an agent given its own
 *   `proxyEnv`, even `null`, keeps it). That is what nodejs/node#64528 proposes for agents under
 *   NODE_USE_ENV_PROXY; the upstream fix is one option in aws-lite's getAgent
 *   (`new client.Agent({ keepAlive, proxyEnv: process.env })`).
 */
import { redact } from '../shared/redact.ts'
import { web } from '../shared/builtins.ts'

/** The variables Node's proxy support reads; lower case first: it wins when both are set. */
const NAMES = { http: ['http_proxy', 'HTTP_PROXY'], https: ['https_proxy', 'HTTPS_PROXY'], no: ['no_proxy', 'NO_PROXY'] } as const

/** The proxy variables as `proxyEnv` takes them (only those that are set). */
export interface ProxyEnv { HTTP_PROXY?: string, HTTPS_PROXY?: string, NO_PROXY?: string }

export interface ProxySetting { value: string, variable: string }

export interface Proxies { http?: ProxySetting, https?: ProxySetting, no?: ProxySetting }

function first (env: NodeJS.ProcessEnv, names: readonly string[]): ProxySetting | undefined {
  for (const variable of names) {
    const value = Object.hasOwn(env, variable) ? env[variable]?.trim() : undefined
    if (value) return { value, variable }
  }
  return undefined
}

/** The job's proxy settings, each with the variable it came from. */
export function proxiesOf (env: NodeJS.ProcessEnv): Proxies {
  const http = first(env, NAMES.http), https = first(env, NAMES.https), no = first(env, NAMES.no)
  return { ...(http ? { http } : {}), ...(https ? { https } : {}), ...(no ? { no } : {}) }
}

/** `proxyEnv` for an agent, or undefined when no proxy is set. */
export function proxyEnvOf (proxies: Proxies): ProxyEnv | undefined {
  if (!proxies.http && !proxies.https) return undefined
  return {
    ...(proxies.http ? { HTTP_PROXY: proxies.http.value } : {}),
    ...(proxies.https ? { HTTPS_PROXY: proxies.https.value } : {}),
    ...(proxies.no ? { NO_PROXY: proxies.no.value } : {}),
  }
}

/** Node's agents take `proxyEnv` from 22.21 (22.x) and 24.5 (24.x; 25 and later). */
export function supportsProxyEnv (version: string = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number)
  return major >= 25 || (major === 24 && minor >= 5) || (major === 22 && minor >= 21)
}

/** NO_PROXY as Node reads it: `*`, or comma/space separated hosts, `.domain` / `*.domain` suffixes, `host:port`. */
export function bypasses (url: URL, noProxy: string | undefined): boolean {
  if (!noProxy) return false
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '')
  const port = url.port || (url.protocol === 'https:' ? '443' : '80')
  for (const raw of noProxy.split(/[\s,]+/).filter(Boolean)) {
    const entry = raw.toLowerCase()
    if (entry === '*') return true
    const [name = '', entryPort] = entry.startsWith('[') ? [entry.slice(1, entry.indexOf(']')), entry.split(']:')[1]] : entry.split(':')
    if (entryPort && entryPort !== port) continue
    const bare = name.replace(/^\*?\./, '')
    if (host === bare || host.endsWith(`.${bare}`)) return true
  }
  return false
}

/** The proxy a request to `url` goes through, or undefined (none set, NO_PROXY, or another scheme's variable only). */
export function proxyFor (url: URL, proxies: Proxies): ProxySetting | undefined {
  const proxy = url.protocol === 'https:' ? proxies.https : proxies.http
  return proxy && !bypasses(url, proxies.no?.value) ? proxy : undefined
}

/** What a request to `url` goes through, said for a job log or doctor ("none" when no proxy variable is set). */
export function describeProxy (url: URL, proxies: Proxies, version: string = process.versions.node): string {
  const proxy = proxyFor(url, proxies)
  if (proxy && supportsProxyEnv(version)) return `${shownProxy(proxy.value)} (from ${proxy.variable}) for ${url.origin}`
  if (proxy) return `none: Node ${version} cannot use ${proxy.variable}`
  const scheme = url.protocol === 'https:' ? proxies.https : proxies.http
  if (scheme && proxies.no) return `none for ${url.origin}: ${proxies.no.variable} covers ${url.hostname}`
  return proxies.http || proxies.https ? `none for ${url.origin} (only ${(proxies.http ?? proxies.https)!.variable} is set)` : 'none'
}

/** A proxy URL as it may be shown: its user and password never are. */
export function shownProxy (value: string): string {
  return redact(value.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1***@'))
}

/**
 * Why the job's proxy variables would not carry the exchange to `endpoint` (AWS's: https), each a
 * line for the job log; empty when they would, or when none is set.
 */
export function ignoredProxies (proxies: Proxies, endpoint: URL, version: string = process.versions.node): string[] {
  const set = [proxies.https, proxies.http].filter((p): p is ProxySetting => p !== undefined)
  if (!set.length) return []
  if (!supportsProxyEnv(version)) {
    return [`${set.map(p => p.variable).join(' and ')} ${set.length > 1 ? 'are' : 'is'} set, but Node ${version} has no proxy support for the plugin to use (Node 22.21 or 24.5 and later): AWS is called directly.`]
  }
  const lines: string[] = []
  for (const p of set) {
    if (!/^https?:\/\//i.test(p.value)) lines.push(`${p.variable} is ${shownProxy(p.value)}: Node's proxy support takes http:// or https:// proxy URLs only, so it is ignored.`)
  }
  const wanted = endpoint.protocol === 'https:' ? proxies.https : proxies.http
  if (!wanted) {
    const other = endpoint.protocol === 'https:' ? proxies.http : proxies.https
    if (other) lines.push(`${other.variable} is set but not ${endpoint.protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY'}: requests to ${endpoint.origin} (${endpoint.protocol.slice(0, -1)}) do not use it.`)
  }
  return lines
}

let routed = false

/**
 * From now on in this process, agents created without their own `proxyEnv` use the job's proxy
 * variables (Architect's aws-lite creates its agents on its first request, after the plugin has
 * loaded). Once per process; nothing is done when no proxy is set or Node cannot use one.
 */
export function routeAgentsThroughProxy (proxyEnv: ProxyEnv | undefined, version: string = process.versions.node): boolean {
  if (routed || !proxyEnv || !supportsProxyEnv(version)) return routed
  const { http, https } = web()
  for (const mod of [http, https] as Array<{ Agent: new (options?: Record<string, unknown>) => unknown }>) {
    const Base = mod.Agent
    const WithProxy = class extends (Base as new (options?: Record<string, unknown>) => object) {
      constructor (options: Record<string, unknown> = {}) {
        super(Object.hasOwn(options, 'proxyEnv') ? options : { ...options, proxyEnv })
      }
    }
    Object.defineProperty(WithProxy, 'name', { value: 'Agent' })
    mod.Agent = WithProxy
  }
  routed = true
  return routed
}
