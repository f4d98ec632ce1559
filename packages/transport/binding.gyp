{
  "targets": [
    {
      "target_name": "vhost_user_native",
      "sources": ["native/addon.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2"]
    }
  ]
}
