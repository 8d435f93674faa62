// A Lambda tool whose module fails as Lambda would load it.
throw new Error('missing configuration: PRICE_LIST');
