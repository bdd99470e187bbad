import { routeSuite } from './routes/suite.js';

routeSuite('redis');
