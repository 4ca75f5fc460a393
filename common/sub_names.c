/* See sub_names.h. */
#include "sub_names.h"

bool
sub_name_valid(const char *s, size_t len)
{
	if (s == NULL || len == 0 || len > SUB_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		char		c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == ':'))
			return false;
	}
	return true;
}

bool
sub_consumer_valid(const char *s, size_t len)
{
	if (s == NULL || len == 0 || len > SUB_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char) s[i] < 0x21 || (unsigned char) s[i] > 0x7E)
			return false;
	return true;
}
