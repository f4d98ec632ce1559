/** @vhost-user/vring: split and packed virtqueues (issue 4). */
export {};
