import { routeSuite } from './routes/suite.js';

routeSuite('memory');
