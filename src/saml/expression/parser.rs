//! Builds the syntax tree of an expression from its tokens, by recursive descent.

use std::iter::Peekable;
use std::vec::IntoIter;

use super::functions::Function;
use super::lexer::{tokenize, Token, TokenKind};
use super::{ExpressionError, MAX_DEPTH};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
    Literal(String),
    /// A profile path: the keys after `user`, outermost first.
    Path(Vec<String>),
    Call {
        function: Function,
        arguments: Vec<Node>,
    },
    /// Operands joined by `+`.
    Concat(Vec<Node>),
    /// Alternatives joined by `?:`.
    Fallback(Vec<Node>),
}

pub(super) fn parse(source: &str) -> Result<Node, ExpressionError> {
    let tokens = tokenize(source)?;
    let end = Token { kind: TokenKind::End, position: source.chars().count() };
    let mut parser = Parser { tokens: tokens.into_iter().peekable(), end, depth: 0 };

    let root = parser.fallback()?;
    let token = parser.advance();
    if token.kind != TokenKind::End {
        return Err(ExpressionError {
            position: token.position,
            message: format!("expected '+', '?:' or the end of the expression, found {}", token.kind.describe()),
        });
    }
    Ok(root)
}

struct Parser {
    tokens: Peekable<IntoIter<Token>>,
    /// The token returned once `tokens` is exhausted; the lexer also ends its list with one.
    end: Token,
    /// How many parentheses and function calls enclose the current token.
    depth: usize,
}

impl Parser {
    fn peek(&mut self) -> &TokenKind {
        &self.tokens.peek().unwrap_or(&self.end).kind
    }

    fn advance(&mut self) -> Token {
        self.tokens.next().unwrap_or_else(|| self.end.clone())
    }

    /// Parses `concat { "?:" concat }`.
    fn fallback(&mut self) -> Result<Node, ExpressionError> {
        self.separated(&TokenKind::Fallback, Self::concat, Node::Fallback)
    }

    /// Parses `operand { "+" operand }`.
    fn concat(&mut self) -> Result<Node, ExpressionError> {
        self.separated(&TokenKind::Plus, Self::operand, Node::Concat)
    }

    /// Parses `item { separator item }`, and wraps two or more items with `combine`.
    fn separated(
        &mut self,
        separator: &TokenKind,
        item: fn(&mut Self) -> Result<Node, ExpressionError>,
        combine: fn(Vec<Node>) -> Node,
    ) -> Result<Node, ExpressionError> {
        let mut items = vec![item(self)?];
        while self.peek() == separator {
            self.advance();
            items.push(item(self)?);
        }
        if items.len() == 1 {
            if let Some(only) = items.pop() {
                return Ok(only);
            }
        }
        Ok(combine(items))
    }

    fn operand(&mut self) -> Result<Node, ExpressionError> {
        let token = self.advance();
        match token.kind {
            TokenKind::String(text) => Ok(Node::Literal(text)),
            TokenKind::Identifier(name) => self.path_or_call(name, token.position),
            TokenKind::LeftParen => {
                self.enter(token.position)?;
                let inner = self.fallback()?;
                self.expect_closing(TokenKind::RightParen, token.position)?;
                self.depth -= 1;
                Ok(inner)
            }
            other => Err(ExpressionError {
                position: token.position,
                message: format!(
                    "expected a string, a profile path such as user.email, a function call or '(', found {}",
                    other.describe()
                ),
            }),
        }
    }

    /// Parses what follows an identifier at `start`: a dotted function name and its
    /// arguments, or a profile path.
    fn path_or_call(&mut self, first: String, start: usize) -> Result<Node, ExpressionError> {
        let mut names = vec![first];
        while *self.peek() == TokenKind::Dot {
            self.advance();
            names.push(self.name_after_dot()?);
        }

        if *self.peek() == TokenKind::LeftParen {
            return self.call(&names.join("."), start);
        }
        let mut names = names.into_iter();
        let root = names.next().unwrap_or_default();
        if root != "user" {
            return Err(ExpressionError {
                position: start,
                message: format!("unknown name '{root}'; profile paths start with 'user.', as in user.email"),
            });
        }
        self.path(names.collect())
    }

    fn name_after_dot(&mut self) -> Result<String, ExpressionError> {
        let token = self.advance();
        match token.kind {
            TokenKind::Identifier(name) => Ok(name),
            other => Err(ExpressionError {
                position: token.position,
                message: format!("expected a name after '.', found {}", other.describe()),
            }),
        }
    }

    /// Parses the rest of a profile path after `user` and the dotted `keys` already read.
    fn path(&mut self, mut keys: Vec<String>) -> Result<Node, ExpressionError> {
        loop {
            match self.peek() {
                TokenKind::Dot => {
                    self.advance();
                    keys.push(self.name_after_dot()?);
                }
                TokenKind::LeftBracket => keys.push(self.bracket_key()?),
                _ => break,
            }
        }

        if keys.is_empty() {
            let token = self.advance();
            return Err(ExpressionError {
                position: token.position,
                message: format!(
                    "expected '.' and a profile attribute name after 'user', as in user.email, found {}",
                    token.kind.describe()
                ),
            });
        }
        Ok(Node::Path(keys))
    }

    /// Parses `[ "key" ]`, which names a profile attribute that is not a plain name.
    fn bracket_key(&mut self) -> Result<String, ExpressionError> {
        let open = self.advance();
        let token = self.advance();
        let TokenKind::String(key) = token.kind else {
            return Err(ExpressionError {
                position: token.position,
                message: format!(
                    "expected a quoted attribute name after '[', as in user[\"first-name\"], found {}",
                    token.kind.describe()
                ),
            });
        };
        self.expect_closing(TokenKind::RightBracket, open.position)?;
        Ok(key)
    }

    /// Parses the parenthesized arguments of the function `name`, whose name starts at `start`.
    fn call(&mut self, name: &str, start: usize) -> Result<Node, ExpressionError> {
        let function = Function::find(name).ok_or_else(|| ExpressionError {
            position: start,
            message: format!("unknown function '{name}'; use one of {}", Function::list_all()),
        })?;

        let open = self.advance();
        self.enter(open.position)?;
        let mut arguments = Vec::new();
        if *self.peek() == TokenKind::RightParen {
            self.advance();
        } else {
            loop {
                arguments.push(self.fallback()?);
                let token = self.advance();
                match token.kind {
                    TokenKind::Comma => continue,
                    TokenKind::RightParen => break,
                    other => {
                        return Err(ExpressionError {
                            position: token.position,
                            message: format!(
                                "expected ',' or a closing ')' for the '(' at position {}, found {}",
                                open.position,
                                other.describe()
                            ),
                        })
                    }
                }
            }
        }
        self.depth -= 1;

        let parameters = function.parameters();
        if arguments.len() != parameters.len() {
            return Err(ExpressionError {
                position: start,
                message: format!(
                    "{} takes {} ({}), but {} given",
                    function.name(),
                    count_noun(parameters.len(), "argument"),
                    parameters.join(", "),
                    count_verb(arguments.len())
                ),
            });
        }
        Ok(Node::Call { function, arguments })
    }

    /// Consumes the `closing` token that matches the opening one at `open`.
    fn expect_closing(&mut self, closing: TokenKind, open: usize) -> Result<(), ExpressionError> {
        let token = self.advance();
        if token.kind == closing {
            return Ok(());
        }
        let opening = if closing == TokenKind::RightBracket { "'['" } else { "'('" };
        Err(ExpressionError {
            position: token.position,
            message: format!(
                "expected a closing {} for the {opening} at position {open}, found {}",
                closing.describe(),
                token.kind.describe()
            ),
        })
    }

    /// Counts one more enclosing parenthesis or call, whose opening is at `position`.
    fn enter(&mut self, position: usize) -> Result<(), ExpressionError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ExpressionError {
                position,
                message: format!(
                    "the expression nests parentheses and function calls more than {MAX_DEPTH} deep; \
                     simplify it"
                ),
            });
        }
        Ok(())
    }
}

fn count_noun(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

fn count_verb(count: usize) -> String {
    if count == 1 {
        "1 was".to_owned()
    } else {
        format!("{count} were")
    }
}
