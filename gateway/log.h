/* Logging to stderr, console or JSON format (docs/configuration.md#flags-and-environment-variables). Never pass
 * a token to these functions. */
#ifndef GW_LOG_H
#define GW_LOG_H

typedef enum LogLevel { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } LogLevel;

void		log_configure(LogLevel level, int json_format);
void		log_msg(LogLevel level, const char *fmt, ...)
			__attribute__((format(printf, 2, 3)));

/* Longer messages are cut (echo.h), whatever they quote. */
#define LOG_MESSAGE_MAX 2048
/* HTTP method names quoted in request fields are cut there. */
#define LOG_FIELD_MAX 64

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
