/* rss/article — see article.h. */
#include "rss/article.h"

#include <stddef.h>

static int present(const char *s)
{
    return s != NULL && s[0] != '\0';
}

const char *rss_article_pick_id(const char *guid, const char *torrent_url, const char *title)
{
    if (present(guid))
        return guid;
    if (present(torrent_url))
        return torrent_url;
    if (present(title))
        return title;
    return "";
}
