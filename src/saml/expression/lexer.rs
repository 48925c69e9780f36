//! Splits an expression into tokens, each with the character position where it starts.

use std::iter::Peekable;
use std::str::Chars;

use super::ExpressionError;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum TokenKind {
    /// A string literal, with its escape sequences already decoded.
    String(String),
    Identifier(String),
    Dot,
    Comma,
    Plus,
    /// The fallback operator `?:`.
    Fallback,
    LeftParen,
    RightParen,
    LeftBracket,
    RightBracket,
    End,
}

impl TokenKind {
    /// Describes the token for an error message, such as "found ','".
    pub(super) fn describe(&self) -> String {
        let symbol = match self {
            Self::String(_) => return "a string".to_owned(),
            Self::Identifier(name) => return format!("'{name}'"),
            Self::End => return "the end of the expression".to_owned(),
            Self::Dot => ".",
            Self::Comma => ",",
            Self::Plus => "+",
            Self::Fallback => "?:",
            Self::LeftParen => "(",
            Self::RightParen => ")",
            Self::LeftBracket => "[",
            Self::RightBracket => "]",
        };
        format!("'{symbol}'")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Token {
    pub(super) kind: TokenKind,
    /// The 0-based character position of the token's first character.
    pub(super) position: usize,
}

/// Splits `source` into tokens, ending with one [`TokenKind::End`].
pub(super) fn tokenize(source: &str) -> Result<Vec<Token>, ExpressionError> {
    let mut lexer = Lexer { chars: source.chars().peekable(), position: 0 };
    let mut tokens = Vec::new();
    loop {
        let token = lexer.next_token()?;
        let end = token.kind == TokenKind::End;
        tokens.push(token);
        if end {
            return Ok(tokens);
        }
    }
}

struct Lexer<'a> {
    chars: Peekable<Chars<'a>>,
    /// The character position of the next character `chars` yields.
    position: usize,
}

impl Lexer<'_> {
    fn bump(&mut self) -> Option<char> {
        let c = self.chars.next()?;
        self.position += 1;
        Some(c)
    }

    fn next_token(&mut self) -> Result<Token, ExpressionError> {
        while self.chars.next_if(|c| c.is_whitespace()).is_some() {
            self.position += 1;
        }

        let position = self.position;
        let Some(c) = self.bump() else {
            return Ok(Token { kind: TokenKind::End, position });
        };
        let kind = match c {
            '.' => TokenKind::Dot,
            ',' => TokenKind::Comma,
            '+' => TokenKind::Plus,
            '(' => TokenKind::LeftParen,
            ')' => TokenKind::RightParen,
            '[' => TokenKind::LeftBracket,
            ']' => TokenKind::RightBracket,
            '?' => self.fallback(position)?,
            '"' | '\'' => TokenKind::String(self.string(c, position)?),
            c if is_identifier_start(c) => TokenKind::Identifier(self.identifier(c)),
            c => return Err(unexpected_character(c, position)),
        };
        Ok(Token { kind, position })
    }

    fn fallback(&mut self, position: usize) -> Result<TokenKind, ExpressionError> {
        if self.chars.next_if_eq(&':').is_some() {
            self.position += 1;
            return Ok(TokenKind::Fallback);
        }
        Err(ExpressionError {
            position,
            message: "expected '?:', the fallback operator; conditional expressions such as \
                      'a ? b : c' are not supported, so write 'a ?: b'"
                .to_owned(),
        })
    }

    fn identifier(&mut self, first: char) -> String {
        let mut name = String::from(first);
        while let Some(c) = self.chars.next_if(|&c| is_identifier_part(c)) {
            self.position += 1;
            name.push(c);
        }
        name
    }

    /// Reads a string literal after its opening `quote`, which is at `start`. Inside it, the
    /// quote doubled is one literal quote, as in SpEL, and backslash escapes are decoded.
    fn string(&mut self, quote: char, start: usize) -> Result<String, ExpressionError> {
        let mut value = String::new();
        loop {
            let position = self.position;
            match self.bump() {
                None => {
                    let closing = if quote == '"' { "'\"'" } else { "\"'\"" };
                    return Err(ExpressionError {
                        position,
                        message: format!("expected a closing {closing} for the string that starts at position {start}"),
                    });
                }
                Some(c) if c == quote => {
                    if self.chars.next_if_eq(&quote).is_none() {
                        return Ok(value);
                    }
                    self.position += 1;
                    value.push(quote);
                }
                // A backslash just before the end is left for the next turn to report as a
                // missing closing quote.
                Some('\\') if self.chars.peek().is_some() => value.push(self.escape(position)?),
                Some(c) => value.push(c),
            }
        }
    }

    /// Decodes the escape sequence whose backslash is at `start`.
    fn escape(&mut self, start: usize) -> Result<char, ExpressionError> {
        let decoded = match self.bump() {
            Some('u') => return self.unicode_escape(start),
            Some('n') => '\n',
            Some('r') => '\r',
            Some('t') => '\t',
            Some(c @ ('\\' | '"' | '\'')) => c,
            other => {
                let escaped = other.map(String::from).unwrap_or_default();
                return Err(ExpressionError {
                    position: start,
                    message: format!(
                        "unknown escape sequence '\\{escaped}'; use \\\\, \\\", \\', \\n, \\r, \\t or \\uXXXX"
                    ),
                });
            }
        };
        Ok(decoded)
    }

    /// Decodes `\uXXXX` after its `u`, including a UTF-16 surrogate pair written as two escapes.
    fn unicode_escape(&mut self, start: usize) -> Result<char, ExpressionError> {
        let unit = self.hex4(start)?;
        if let Some(c) = char::from_u32(unit) {
            return Ok(c);
        }

        let invalid = || ExpressionError {
            position: start,
            message: format!(
                "'\\u{unit:04X}' is half of a UTF-16 surrogate pair; follow a high surrogate \
                 (D800 to DBFF) with a low one (DC00 to DFFF), or write the character itself"
            ),
        };
        if !(0xD800..0xDC00).contains(&unit) {
            return Err(invalid());
        }
        if self.chars.next_if_eq(&'\\').is_none() {
            return Err(invalid());
        }
        self.position += 1;
        if self.chars.next_if_eq(&'u').is_none() {
            return Err(invalid());
        }
        self.position += 1;
        let low = self.hex4(start)?;
        if !(0xDC00..0xE000).contains(&low) {
            return Err(invalid());
        }
        let scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
        char::from_u32(scalar).ok_or_else(invalid)
    }

    fn hex4(&mut self, start: usize) -> Result<u32, ExpressionError> {
        let mut unit = 0;
        for _ in 0..4 {
            let digit = self.chars.next_if(char::is_ascii_hexdigit).and_then(|c| c.to_digit(16));
            let Some(digit) = digit else {
                return Err(ExpressionError {
                    position: start,
                    message: "expected four hexadecimal digits after '\\u'".to_owned(),
                });
            };
            self.position += 1;
            unit = unit * 16 + digit;
        }
        Ok(unit)
    }
}

fn is_identifier_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '$'
}

fn is_identifier_part(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '$'
}

fn unexpected_character(c: char, position: usize) -> ExpressionError {
    let hint = if c.is_ascii_digit() {
        "numbers are not supported, so quote the number as a string, such as \"42\""
    } else {
        "expected a string, a profile path such as user.email, a function call, '+', '?:', \
         ',', parentheses or brackets"
    };
    ExpressionError { position, message: format!("unexpected character {c:?}; {hint}") }
}
