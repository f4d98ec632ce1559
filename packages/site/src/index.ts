/** @vhost-user/site (issue 7). */
export {};
