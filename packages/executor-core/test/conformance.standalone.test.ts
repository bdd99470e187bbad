import { conformanceSuite } from './conformance/suite.js';
import { placementConformanceSuite } from './conformance/placement-suite.js';

conformanceSuite('standalone');
placementConformanceSuite('standalone');
