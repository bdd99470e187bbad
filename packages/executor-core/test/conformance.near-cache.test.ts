import { conformanceSuite } from './conformance/suite.js';

// The near cache answers state, workload and link reads without a round trip: every answer
// must still be the one the contract gives (read-your-writes, TTLs, corrupt values).
conformanceSuite('standalone', { nearCache: true });
