DROP TABLE IF EXISTS widget_send_windows;
