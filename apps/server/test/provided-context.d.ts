// Brings test-redis' `ProvidedContext` augmentation (redisUrl, clusterSeeds) into the
// type-check of every test file, so `inject('redisUrl')` is typed.
import type {} from '@stateful-route/test-redis/global-setup';
