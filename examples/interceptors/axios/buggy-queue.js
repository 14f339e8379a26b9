'use strict';
// buggy-queue.js: a 401 interceptor with a classic queue bug. It keeps an
// isRefreshing flag and a queue like single-flight.js, but a queued call,
// once the refresh it waited for is done, refreshes again for itself
// instead of using the token that refresh brought: every queued call
// makes one more refresh of a generation already refreshed, and, when a
// 401 comes back while a refresh is out, two refreshes of one session
// are in flight at once.

function install(api, session) {
  let refreshing = null;

  api.interceptors.response.use(undefined, async (error) => {
    const config = error.config;
    if (!error.response || error.response.status !== 401 || !config || config._retried) {
      throw error;
    }
    config._retried = true;
    if (refreshing) {
      await refreshing.catch(() => {});
      // BUG: should use session.token now; refreshes again instead.
    }
    const mine = session.refresh();
    refreshing = mine;
    mine.finally(() => { if (refreshing === mine) refreshing = null; }).catch(() => {});
    const token = await mine;
    config.headers.Authorization = `Bearer ${token}`;
    return api.request(config);
  });
}

module.exports = { install };
