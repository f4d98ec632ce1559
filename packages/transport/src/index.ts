/** @vhost-user/transport (issue 5). */
export {};
