/**
 * Which input rules each operation's arguments must meet (contract section 4), in one
 * place: every backend runs these before any I/O, and a client that forwards calls
 * elsewhere (the CLI through the server) runs the same ones to refuse bad input locally with
 * the same `SR_VALIDATION` error (field and rule). Each throws on the first broken rule.
 */
import type { OperationName } from './executor.js';
import { PLACEMENT_CHECKS } from './placement.js';
import {
  checkId,
  checkIdList,
  checkKeepSeconds,
  checkNamespace,
  checkPersistSeconds,
  checkOptions,
  checkPodId,
  checkRequired,
  checkState,
  checkWorkloadState,
} from './validation.js';

function link(namespace: unknown, uid: unknown, service: unknown): void {
  checkNamespace(namespace);
  checkId(uid, 'uid');
  checkId(service, 'service');
}

const LINK_WRITE_OPTIONS = ['podId', 'persistSeconds'] as const;
const REMOVE_OPTIONS = ['keepSeconds'] as const;
const REMOVE_WITH_ID_OPTIONS = ['podId', 'keepSeconds'] as const;

function linkWrite(namespace: unknown, uid: unknown, service: unknown, options: unknown): void {
  link(namespace, uid, service);
  checkOptions(options, LINK_WRITE_OPTIONS);
  const { podId, persistSeconds } = options;
  checkRequired(podId, 'podId');
  checkPodId(podId);
  checkRequired(persistSeconds, 'persistSeconds');
  checkPersistSeconds(persistSeconds);
}

// keepSeconds has no effect (contract): optional, and validated as before when given.
function optionalKeepSeconds(value: unknown): void {
  if (value !== undefined) checkKeepSeconds(value);
}

function stateOf(namespace: unknown, service: unknown): void {
  checkNamespace(namespace);
  checkId(service, 'service');
}

/**
 * The argument checks of each operation (the contract's and placement's), taking the arguments in the operation's order
 * (the options object of a link write or remove included: a plain object, required values
 * present, no unknown key).
 * @throws SR_VALIDATION naming the field and the rule
 * @example
 * OPERATION_CHECKS.setLinkedPod('ns', 'user-1', 'room', { podId: 3, persistSeconds: -1 }); // passes
 * OPERATION_CHECKS.setLinkedPod('ns', 'user-1', 'room', 3, -1); // throws: options, type
 * OPERATION_CHECKS.getLinkedPod('a:b', 'user-1', 'room'); // throws: namespace, forbidden-character
 */
export const OPERATION_CHECKS: {
  readonly [op in OperationName]: (...args: unknown[]) => void;
} = Object.freeze({
  setServiceState(namespace: unknown, service: unknown, podId: unknown, state: unknown) {
    stateOf(namespace, service);
    checkPodId(podId);
    checkState(state);
  },
  getServiceState: stateOf,
  setWorkloadState(namespace: unknown, service: unknown, state: unknown) {
    stateOf(namespace, service);
    checkWorkloadState(state);
  },
  getWorkloadState: stateOf,
  getWorkloadStateBatch(namespace: unknown, services: unknown) {
    checkNamespace(namespace);
    checkIdList(services, 'services');
  },
  setLinkedPod: linkWrite,
  trySetLinkedPod: linkWrite,
  setLinkedPodIfAbsent: linkWrite,
  getLinkedPod: link,
  getLinkedPodIfPersist: link,
  batchGetLinkedPod(namespace: unknown, uids: unknown, service: unknown) {
    checkNamespace(namespace);
    checkIdList(uids, 'uids');
    checkId(service, 'service');
  },
  removeLinkedPod(namespace: unknown, uid: unknown, service: unknown, options?: unknown) {
    link(namespace, uid, service);
    if (options === undefined) return;
    checkOptions(options, REMOVE_OPTIONS);
    optionalKeepSeconds(options.keepSeconds);
  },
  removeLinkedPodWithId(namespace: unknown, uid: unknown, service: unknown, options: unknown) {
    link(namespace, uid, service);
    checkOptions(options, REMOVE_WITH_ID_OPTIONS);
    const { podId } = options;
    checkRequired(podId, 'podId');
    checkPodId(podId);
    optionalKeepSeconds(options.keepSeconds);
  },
  getLinkService(namespace: unknown, uid: unknown) {
    checkNamespace(namespace);
    checkId(uid, 'uid');
  },
  ...PLACEMENT_CHECKS,
});
