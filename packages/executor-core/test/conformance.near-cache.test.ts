import { conformanceSuite } from './conformance/suite.js';
import { placementConformanceSuite } from './conformance/placement-suite.js';

// The near cache answers state, workload and link reads without a round trip: every answer
// must still be the one the contract gives (read-your-writes, TTLs, corrupt values).
conformanceSuite('standalone', { nearCache: true });
placementConformanceSuite('standalone', { nearCache: true });
