// Brings test-redis' `ProvidedContext` augmentation (redisUrl, clusterSeeds) into the
// type-check of this package's tests.
import type {} from '@stateful-route/test-redis/global-setup';
