import { conformanceSuite } from './conformance/suite.js';
import { placementConformanceSuite } from './conformance/placement-suite.js';

// ioredis auto-pipelining changes how commands are queued and batched (per node on a
// Cluster): the contract must hold the same way.
conformanceSuite('standalone', { autoPipelining: true });
conformanceSuite('cluster', { autoPipelining: true });
placementConformanceSuite('standalone', { autoPipelining: true });
placementConformanceSuite('cluster', { autoPipelining: true });
