/**
 * The STS stand-in's front door for AssumeRoleWithWebIdentity: faults a test queued (one per
 * request, in order) or set for every request, then the exchange itself (aws/sts.ts), and what
 * happened written to the call's record.
 */
import type { IncomingMessage } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { sessionOf, type CallRecord } from './calls.ts'
import type { HttpResult } from './protocol.ts'
import type { AwsState } from './state.ts'
import { describeFault, faultError, foreignAnswer, StsService, tamperedAnswer, type StsFault } from './sts.ts'

export class StsFront {
  readonly sts: StsService
  private readonly accountId: string
  private readonly closing: AbortSignal
  private readonly queue: StsFault[] = []
  private permanent: StsFault | null = null

  /** `closing` aborts a delayed answer when the stand-in closes. */
  constructor (state: AwsState, closing: AbortSignal) {
    this.sts = new StsService(state)
    this.accountId = state.accountId
    this.closing = closing
  }

  /** Faults for the next requests, one per request, in order. */
  inject (...faults: StsFault[]): void { this.queue.push(...faults) }

  /** A fault for every request once the queued ones ran out, until cleared with null. */
  set (fault: StsFault | null): void { this.permanent = fault }

  async handle (req: IncomingMessage, params: URLSearchParams, record: CallRecord, requestId: string): Promise<HttpResult | 'no-answer'> {
    const fault = this.queue.shift() ?? this.permanent ?? undefined
    if (fault) {
      record.fault = describeFault(fault)
      if (fault === 'hang') return 'no-answer'
      if (fault === 'reset') {
        req.socket.destroy()
        return 'no-answer'
      }
      if (typeof fault === 'object' && 'delayMs' in fault) {
        await sleep(fault.delayMs, undefined, { signal: this.closing }).catch(() => undefined)
        if (this.closing.aborted) return 'no-answer'
      }
      const err = faultError(fault, this.accountId)
      if (err) throw err
      const foreign = foreignAnswer(fault)
      if (foreign) return foreign
    }
    const outcome = await this.sts.assumeRoleWithWebIdentity(params, requestId, Date.now(), o => {
      record.assume = { ...record.assume, ...Object.fromEntries(Object.entries(o).filter(([ , v ]) => v !== undefined)) }
    })
    record.session = sessionOf(outcome.session!)
    return fault ? tamperedAnswer(fault, outcome.result) : outcome.result
  }
}
