'use strict';
// single-flight.js: a correct 401 interceptor. One refresh at a time per
// session; calls answered 401 meanwhile wait for it in a queue and are
// retried once with the new token; a call whose token was already replaced
// is retried with the newest at once, without refreshing again; a failed
// refresh fails every queued call (none is left unsettled).

function install(api, session) {
  let refreshing = null; // the refresh in flight, shared

  api.interceptors.response.use(undefined, async (error) => {
    const config = error.config;
    if (!error.response || error.response.status !== 401 || !config || config._retried) {
      throw error;
    }
    config._retried = true;
    const sent = (config.headers.Authorization || '').replace(/^Bearer /, '');
    if (sent !== session.token) {
      // Another call refreshed while this one was out: use its token.
      config.headers.Authorization = `Bearer ${session.token}`;
      return api.request(config);
    }
    if (!refreshing) {
      refreshing = session.refresh().finally(() => { refreshing = null; });
    }
    const token = await refreshing; // a failed refresh rejects every waiter
    config.headers.Authorization = `Bearer ${token}`;
    return api.request(config);
  });
}

module.exports = { install };
